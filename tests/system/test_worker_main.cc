// A worker process for the system tests: the real Worker with test handlers, configured by flags,
// so tests can SIGKILL or SIGTERM it like any deployed worker.
//   taskq_test_worker <redis_url> <queue=concurrency> <lease_ms> <grace_ms> [idle_poll_ms
//                     [max_stalls]]
// Handlers: "sleep" sleeps data.ms (in steps, honouring stop requests) and returns {"pid":<pid>};
// "fail" fails permanently with the message "boom" (for dead-letter paths); "stubborn" sleeps
// data.ms ignoring stop requests (a handler that overruns its timeout); "echo" returns its data;
// "gather" (a flow's parent) returns {"children":[{"ref","id","completed","value"}]}: what
// JobContext::children gave it, each child's result or error as JSON; "step" (a chain's step)
// returns {"step": data.step, "saw": <JobContext::previous_result, null when none>}; "tally" (a
// batch's callback) returns {"batch":{"id","total","completed","dead"}}, what JobContext::batch
// gave it (null when nothing).
// With TASKQ_TEST_STUBBORN_WEBHOOK_SECRET set, "webhook" is also registered: the built-in webhook
// handler (signing with that secret, loopback and any port allowed) that sees neither stop
// requests nor the attempt's deadline, so a slow target makes it overrun its timeout. The fault
// suite's overrun scenario (F15) runs it. "misbehave" is tests/testing/misbehaving_handler.h's
// (crashes, hangs, allocations); a queue written "q=2:process" runs its handlers in handler
// processes, which this program serves as, too.
#include <signal.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "handlers/webhook.h"
#include "taskq/worker.h"
#include "testing/misbehaving_handler.h"

// data.ms of a "sleep" or "stubborn" job (0 when absent).
static int MsOf(const taskq::JobContext& job) {
  const std::string& data = job.data_json();
  auto pos = data.find("\"ms\":");
  return pos == std::string::npos ? 0 : std::stoi(data.substr(pos + 5));
}

// A job as a handler that ignores stop requests sees it: never asked to stop, no deadline.
class StopHidingContext : public taskq::JobContext {
 public:
  explicit StopHidingContext(taskq::JobContext& job) : job_(job) {}
  const std::string& id() const override { return job_.id(); }
  const std::string& type() const override { return job_.type(); }
  const std::string& queue() const override { return job_.queue(); }
  const std::string& data_json() const override { return job_.data_json(); }
  int32_t attempt() const override { return job_.attempt(); }
  int32_t max_attempts() const override { return job_.max_attempts(); }
  void SetProgress(std::string progress_json) override {
    job_.SetProgress(std::move(progress_json));
  }
  void Log(std::string line) override { job_.Log(std::move(line)); }
  bool stop_requested() const override { return false; }
  std::chrono::steady_clock::time_point deadline() const override {
    return std::chrono::steady_clock::time_point::max();
  }

 private:
  taskq::JobContext& job_;
};

// Every test handler, on `worker`.
static void RegisterTestHandlers(taskq::Worker& worker) {
  const std::string pid = std::to_string(::getpid());
  worker.Register("sleep", [pid](taskq::JobContext& job) {
    const int ms = MsOf(job);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (job.stop_requested()) return taskq::HandlerResult::Retry("stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return taskq::HandlerResult::Success("{\"pid\":" + pid + "}");
  });
  worker.Register("fail", [](taskq::JobContext&) { return taskq::HandlerResult::Fail("boom"); });
  worker.Register("stubborn", [pid](taskq::JobContext& job) {
    std::this_thread::sleep_for(std::chrono::milliseconds(MsOf(job)));
    return taskq::HandlerResult::Success("{\"pid\":" + pid + "}");
  });
  if (const char* secret = std::getenv("TASKQ_TEST_STUBBORN_WEBHOOK_SECRET")) {
    taskq::handlers::WebhookOptions webhook;
    webhook.secret = secret;
    webhook.allow_cidrs = {"127.0.0.0/8"};
    webhook.allowed_ports.clear();  // any port: the fault suite's sink listens on a free one
    taskq::Handler deliver = taskq::handlers::MakeWebhookHandler(std::move(webhook));
    worker.Register("webhook", [deliver](taskq::JobContext& job) {
      StopHidingContext stubborn(job);
      return deliver(stubborn);
    });
  }
  // The data as the handler sees it, as the result: shows whether it arrived unchanged.
  worker.Register("echo", [](taskq::JobContext& job) {
    return taskq::HandlerResult::Success(job.data_json());
  });
  worker.Register("misbehave", taskq::testing::Misbehave);
  worker.Register("tally", [](taskq::JobContext& job) {
    boost::json::value batch;
    if (std::optional<taskq::BatchCounts> counts = job.batch()) {
      batch = {{"id", counts->id},
               {"total", counts->total},
               {"completed", counts->completed},
               {"dead", counts->dead}};
    }
    return taskq::HandlerResult::Success(
        boost::json::serialize(boost::json::object{{"batch", std::move(batch)}}));
  });
  worker.Register("gather", [](taskq::JobContext& job) {
    boost::json::array children;
    for (const taskq::FlowChild& child : job.children()) {
      boost::system::error_code error;
      boost::json::value value = boost::json::parse(child.json, error);
      if (error) value = child.json;  // shown as text: the test then sees what came
      children.push_back({{"ref", child.ref},
                          {"id", child.id},
                          {"completed", child.completed},
                          {"value", std::move(value)}});
    }
    return taskq::HandlerResult::Success(
        boost::json::serialize(boost::json::object{{"children", std::move(children)}}));
  });
  worker.Register("step", [](taskq::JobContext& job) {
    boost::system::error_code error;
    boost::json::value data = boost::json::parse(job.data_json(), error);
    boost::json::value step = nullptr;
    if (!error && data.is_object() && data.as_object().contains("step")) {
      step = data.as_object().at("step");
    }
    boost::json::value saw = nullptr;
    if (const std::optional<std::string> previous = job.previous_result()) {
      saw = boost::json::parse(*previous, error);
      if (error) saw = *previous;  // shown as text: the test then sees what came
    }
    return taskq::HandlerResult::Success(boost::json::serialize(
        boost::json::object{{"step", std::move(step)}, {"saw", std::move(saw)}}));
  });
}

int main(int argc, char** argv) {
  if (taskq::IsHandlerProcess()) {
    taskq::Worker worker(taskq::WorkerOptions{});
    RegisterTestHandlers(worker);
    return worker.ServeHandlerProcess();
  }
  if (argc < 5 || argc > 7) {
    std::fprintf(stderr,
                 "usage: taskq_test_worker url queue=n lease_ms grace_ms [idle_poll_ms "
                 "[max_stalls]]\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  taskq::WorkerOptions options;
  options.redis_url = argv[1];
  options.queues = *taskq::ParseQueueList(argv[2]);
  options.lease = std::chrono::milliseconds(std::stoi(argv[3]));
  options.shutdown_grace = std::chrono::milliseconds(std::stoi(argv[4]));
  if (argc >= 6) options.idle_poll = std::chrono::milliseconds(std::stoi(argv[5]));
  if (argc == 7) options.max_stalls = std::stoi(argv[6]);
  options.recover_interval = std::chrono::milliseconds(100);
  options.heartbeat_interval = std::chrono::milliseconds(200);  // timings show up quickly
  // As `taskq worker --history-bucket-ms` (short buckets let a test see several).
  if (const char* bucket = std::getenv("TASKQ_HISTORY_BUCKET_MS")) {
    options.history_bucket = std::chrono::milliseconds(std::atoll(bucket));
  }
  taskq::Worker worker(options);
  RegisterTestHandlers(worker);
  if (auto s = worker.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  worker.Stop();
  return 0;
}
