// Registers a handler of its own, enqueues three jobs and runs a worker until they are done.
//   custom_handler redis://127.0.0.1:6379
#include <signal.h>
#include <taskq/client.h>
#include <taskq/inspector.h>
#include <taskq/worker.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a Redis connection closed mid-write fails with EPIPE, not a signal
  const std::string url = argc > 1 ? argv[1] : "redis://127.0.0.1:6379";

  taskq::WorkerOptions options;
  options.redis_url = url;
  options.queues = {{"greetings", 2}};
  taskq::Worker worker(options);
  worker.Register("greet", [](taskq::JobContext& job) {
    job.Log("greeting " + job.data_json());
    return taskq::HandlerResult::Success("{\"greeted\":" + job.data_json() + "}");
  });
  if (auto status = worker.Start(); !status.ok()) {
    std::fprintf(stderr, "worker: %s\n", status.ToString().c_str());
    return 1;
  }

  auto client = taskq::Client::Open({url});
  if (!client.ok()) return 1;
  std::vector<std::string> ids;
  for (const char* name : {"Ada", "Grace", "Barbara"}) {
    taskq::EnqueueRequest request{"greet", std::string("{\"name\":\"") + name + "\"}", {}};
    request.options.queue = "greetings";
    auto result = (*client)->Enqueue(request);
    if (!result.ok()) {
      std::fprintf(stderr, "enqueue: %s\n", result.status().ToString().c_str());
      return 1;
    }
    ids.push_back(result->id);
  }

  for (const std::string& id : ids) {
    for (int i = 0; i < 500; ++i) {
      auto job = (*client)->Get("greetings", id);
      if (job.ok() && job->has_value() && (*job)->state == taskq::JobState::kCompleted) {
        std::printf("%s completed: %s\n", id.c_str(), (*job)->result_json.c_str());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  worker.Stop();
  return worker.stats().completed == 3 ? 0 : 1;
}
