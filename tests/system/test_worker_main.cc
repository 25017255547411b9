// A worker process for the system tests: the real Worker with test handlers, configured by flags,
// so tests can SIGKILL or SIGTERM it like any deployed worker.
//   taskq_test_worker <redis_url> <queue=concurrency> <lease_ms> <grace_ms> [idle_poll_ms]
// Handlers: "sleep" sleeps data.ms (in steps, honouring stop requests) and returns {"pid":<pid>};
// "fail" fails permanently with the message "boom" (for dead-letter paths); "stubborn" sleeps
// data.ms ignoring stop requests (a handler that overruns its timeout); "echo" returns its data.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "taskq/worker.h"

// data.ms of a "sleep" or "stubborn" job (0 when absent).
static int MsOf(const taskq::JobContext& job) {
  const std::string& data = job.data_json();
  auto pos = data.find("\"ms\":");
  return pos == std::string::npos ? 0 : std::stoi(data.substr(pos + 5));
}

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: taskq_test_worker url queue=n lease_ms grace_ms [idle_poll_ms]\n");
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
  if (argc == 6) options.idle_poll = std::chrono::milliseconds(std::stoi(argv[5]));
  options.recover_interval = std::chrono::milliseconds(100);
  options.heartbeat_interval = std::chrono::milliseconds(200);  // timings show up quickly
  taskq::Worker worker(options);
  const std::string pid = std::to_string(::getpid());
  worker.Register("sleep", [&](taskq::JobContext& job) {
    const int ms = MsOf(job);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (job.stop_requested()) return taskq::HandlerResult::Retry("stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return taskq::HandlerResult::Success("{\"pid\":" + pid + "}");
  });
  worker.Register("fail", [](taskq::JobContext&) { return taskq::HandlerResult::Fail("boom"); });
  worker.Register("stubborn", [&](taskq::JobContext& job) {
    std::this_thread::sleep_for(std::chrono::milliseconds(MsOf(job)));
    return taskq::HandlerResult::Success("{\"pid\":" + pid + "}");
  });
  // The data as the handler sees it, as the result: shows whether it arrived unchanged.
  worker.Register("echo", [](taskq::JobContext& job) {
    return taskq::HandlerResult::Success(job.data_json());
  });
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
