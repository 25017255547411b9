#include "worker/handler_process_pool.h"

#include <spdlog/spdlog.h>

namespace taskq::worker {

HandlerProcessPool::HandlerProcessPool(std::string queue, HandlerProcessOptions options,
                                       int32_t size)
    : queue_(std::move(queue)), options_(std::move(options)), size_(size) {}

HandlerProcessPool::~HandlerProcessPool() = default;

Status HandlerProcessPool::Start() {
  for (int32_t i = 0; i < size_; ++i) {
    auto process = HandlerProcess::Start(options_);
    std::lock_guard lock(mu_);
    if (!process.ok()) {
      ++stats_.start_failures;
      return process.status();
    }
    ++stats_.started;
    idle_.push_back(std::move(*process));
  }
  return Status::Ok();
}

HandlerResult HandlerProcessPool::Run(JobContext& job) {
  std::unique_ptr<HandlerProcess> process;
  {
    std::lock_guard lock(mu_);
    ++busy_;
    if (!idle_.empty()) {
      process = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!process) {
    auto started = HandlerProcess::Start(options_);
    std::lock_guard lock(mu_);
    if (!started.ok()) {
      ++stats_.start_failures;
      --busy_;
      spdlog::error("queue {}: {}", queue_, started.status().message());
      return HandlerResult::Retry(started.status().message());
    }
    ++stats_.started;
    process = std::move(*started);
  }
  HandlerProcess::Outcome outcome = process->Run(job);
  if (outcome.end != HandlerProcess::End::kReusable) {
    spdlog::warn("queue {}: job {}: {}", queue_, job.id(), outcome.result.message);
  }
  std::unique_ptr<HandlerProcess> ended;  // destroyed (reaped) after the lock is let go
  std::lock_guard lock(mu_);
  --busy_;
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
  if (process) ended = std::move(process);
  return std::move(outcome.result);
}

HandlerProcessStats HandlerProcessPool::stats() const {
  std::lock_guard lock(mu_);
  HandlerProcessStats out = stats_;
  out.running = static_cast<int32_t>(idle_.size()) + busy_;
  return out;
}

}  // namespace taskq::worker
