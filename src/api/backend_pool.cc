#include "api/backend_pool.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace taskq::api {

Result<std::unique_ptr<BackendPool>> BackendPool::Open(const ClientOptions& options, int threads) {
  std::vector<Backend> backends;
  for (int i = 0; i < std::max(1, threads); ++i) {
    auto client = Client::Open(options);
    if (!client.ok()) return client.status();
    auto inspector = Inspector::Open({options.redis_url, options.key_prefix});
    if (!inspector.ok()) return inspector.status();
    auto schedules = scheduler::ScheduleStore::Open(options);
    if (!schedules.ok()) return schedules.status();
    backends.push_back(Backend{std::move(*client), std::move(*inspector), std::move(*schedules)});
  }
  return std::unique_ptr<BackendPool>(new BackendPool(std::move(backends)));
}

BackendPool::BackendPool(std::vector<Backend> backends) : backends_(std::move(backends)) {
  for (Backend& backend : backends_) {
    threads_.emplace_back([this, &backend] { Run(backend); });
  }
}

BackendPool::~BackendPool() { Stop(); }

void BackendPool::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Delayed tasks left (long polls) hold their requests' answers: they go now, while the server
  // that would send them still exists.
  decltype(tasks_) left;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    left.swap(tasks_);
  }
}

void BackendPool::PostAfter(std::chrono::milliseconds delay, Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;  // nobody would run it: dropped here
    tasks_.push(Delayed{std::chrono::steady_clock::now() + delay, seq_++, std::move(task)});
  }
  cv_.notify_one();
}

void BackendPool::Run(Backend& backend) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (tasks_.empty()) {
      if (stopping_) return;
      cv_.wait(lock);
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (tasks_.top().due > now) {
      if (stopping_) return;  // delayed tasks are dropped at shutdown
      // A copy: wait_until reads the time again when it wakes, and a task posted meanwhile may
      // have moved the queue's storage.
      const auto due = tasks_.top().due;
      cv_.wait_until(lock, due);
      continue;
    }
    Task task = std::move(const_cast<Delayed&>(tasks_.top()).task);
    tasks_.pop();
    lock.unlock();
    // A task that throws must not end the process (an uncaught exception on this thread would
    // terminate it): it is logged, and its request gets the server's timeout answer.
    try {
      task(backend);
    } catch (const std::exception& e) {
      spdlog::error("API backend task failed: {}", e.what());
    } catch (...) {
      spdlog::error("API backend task failed with an exception that is not std::exception");
    }
    task = nullptr;  // its captures (a Respond) are released off the lock
    lock.lock();
  }
}

}  // namespace taskq::api
