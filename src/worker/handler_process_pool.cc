#include "worker/handler_process_pool.h"

#include <spdlog/spdlog.h>

namespace taskq::worker {

HandlerProcessPool::HandlerProcessPool(std::string queue, HandlerProcessOptions options,
                                       int32_t size)
    : queue_(std::move(queue)), options_(std::move(options)), size_(size) {}

HandlerProcessPool::~HandlerProcessPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (starter_.joinable()) starter_.join();
}

Status HandlerProcessPool::Start() {
  starter_ = std::thread([this] { Replace(); });
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return alive_ == size_ || failed_starts_ > 0; });
  return failed_starts_ > 0 ? last_start_error_ : Status::Ok();
}

void HandlerProcessPool::Replace() {
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || alive_ < size_; });
    if (stopping_) return;
    lock.unlock();
    auto process = HandlerProcess::Start(options_);
    lock.lock();
    if (!process.ok()) {
      ++stats_.start_failures;
      ++failed_starts_;
      last_start_error_ = process.status();
      spdlog::error("queue {}: {}", queue_, process.status().message());
      changed_.notify_all();
      changed_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      continue;
    }
    ++stats_.started;
    ++alive_;
    idle_.push_back(std::move(*process));
    changed_.notify_all();
  }
}

HandlerResult HandlerProcessPool::Run(JobContext& job) {
  std::unique_ptr<HandlerProcess> process;
  {
    std::unique_lock lock(mu_);
    // None idle: one of the pool's is being replaced. Waits for it, or for its start to fail.
    const int64_t failed_before = failed_starts_;
    changed_.wait(lock,
                  [&] { return !idle_.empty() || failed_starts_ > failed_before || stopping_; });
    if (idle_.empty()) {
      return HandlerResult::Retry(stopping_ ? "the worker is stopping"
                                            : last_start_error_.message());
    }
    process = std::move(idle_.back());
    idle_.pop_back();
  }
  HandlerProcess::Outcome outcome = process->Run(job);
  if (outcome.end != HandlerProcess::End::kReusable) {
    spdlog::warn("queue {}: job {}: {}", queue_, job.id(), outcome.result.message);
  }
  {
    std::lock_guard lock(mu_);
    switch (outcome.end) {
      case HandlerProcess::End::kReusable:
        idle_.push_back(std::move(process));
        break;
      case HandlerProcess::End::kTimedOut:
        ++stats_.timeout_kills;
        break;
      case HandlerProcess::End::kStopped:
        ++stats_.stop_kills;
        break;
      case HandlerProcess::End::kCrashed:
        ++stats_.crashes;
        break;
      case HandlerProcess::End::kOutOfMemory:
        ++stats_.memory_kills;
        break;
    }
    if (process) --alive_;  // it ended: the pool's thread starts its successor
  }
  changed_.notify_all();
  process.reset();  // an ended one is reaped here, outside the lock
  return std::move(outcome.result);
}

HandlerProcessStats HandlerProcessPool::stats() const {
  std::lock_guard lock(mu_);
  HandlerProcessStats out = stats_;
  out.running = alive_;
  return out;
}

std::vector<std::pair<std::string, int64_t>> HandlerProcessPool::DrainCounters() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, int64_t>> out;
  const std::pair<const char*, int64_t HandlerProcessStats::*> counters[] = {
      {"hp:started", &HandlerProcessStats::started},
      {"hp:timed_out", &HandlerProcessStats::timeout_kills},
      {"hp:stopped", &HandlerProcessStats::stop_kills},
      {"hp:out_of_memory", &HandlerProcessStats::memory_kills},
      {"hp:crashed", &HandlerProcessStats::crashes},
  };
  for (const auto& [field, member] : counters) {
    const int64_t increment = stats_.*member - drained_.*member;
    if (increment != 0) out.emplace_back(field, increment);
  }
  drained_ = stats_;
  return out;
}

}  // namespace taskq::worker
