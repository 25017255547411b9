#include "worker/thread_pool.h"

namespace taskq::worker {

ThreadPool::ThreadPool(int threads) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void ThreadPool::PostBatch(std::vector<std::function<void()>> tasks) {
  const size_t n = tasks.size();
  {
    std::lock_guard lock(mu_);
    for (auto& task : tasks) tasks_.push_back(std::move(task));
  }
  if (n >= threads_.size()) {
    ready_.notify_all();
  } else {
    for (size_t i = 0; i < n; ++i) ready_.notify_one();
  }
}

void ThreadPool::Run() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace taskq::worker
