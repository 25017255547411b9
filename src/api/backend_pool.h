// Threads that talk to Redis for the API, so that the HTTP I/O threads never block. Each thread
// owns its own Client, Inspector and ScheduleStore (their own Redis connections): tasks on
// different threads run in parallel, a task never shares a connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "scheduler/schedule_store.h"
#include "taskq/client.h"
#include "taskq/inspector.h"

namespace taskq::api {

struct Backend {
  std::unique_ptr<Client> client;
  std::unique_ptr<Inspector> inspector;
  std::unique_ptr<scheduler::ScheduleStore> schedules;
};

class BackendPool {
 public:
  using Task = std::function<void(Backend&)>;

  // Opens the connections (lazily connected: Redis may be down at start).
  static Result<std::unique_ptr<BackendPool>> Open(const ClientOptions& options, int threads);
  ~BackendPool();  // runs the tasks already due, drops delayed ones, joins
  BackendPool(const BackendPool&) = delete;
  BackendPool& operator=(const BackendPool&) = delete;

  void Post(Task task) { PostAfter(std::chrono::milliseconds(0), std::move(task)); }
  // Runs the task no earlier than `delay` from now (long polls re-post themselves this way
  // instead of sleeping on a thread).
  void PostAfter(std::chrono::milliseconds delay, Task task);
  void Stop();

 private:
  explicit BackendPool(std::vector<Backend> backends);
  void Run(Backend& backend);

  struct Delayed {
    std::chrono::steady_clock::time_point due;
    uint64_t seq;  // FIFO among equal due times
    Task task;
    bool operator>(const Delayed& other) const {
      return due != other.due ? due > other.due : seq > other.seq;
    }
  };

  std::vector<Backend> backends_;  // immutable after construction; one per thread
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> tasks_;  // guarded by mu_
  uint64_t seq_ = 0;                                                          // guarded by mu_
  bool stopping_ = false;                                                     // guarded by mu_
  bool stopped_ = false;  // guarded by mu_: the threads are gone
  std::vector<std::thread> threads_;
};

}  // namespace taskq::api
