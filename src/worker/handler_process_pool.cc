#include "worker/handler_process_pool.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace taskq::worker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After a process failed to start, the next try waits this long.
constexpr milliseconds kRespawnPause{1000};

}  // namespace

HandlerProcessPool::HandlerProcessPool(std::string queue, HandlerProcessOptions options,
                                       int32_t size)
    : queue_(std::move(queue)), options_(std::move(options)), size_(size) {}

HandlerProcessPool::~HandlerProcessPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  if (wake_.valid()) {
    const uint64_t one = 1;
    (void)::write(wake_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

Status HandlerProcessPool::Start() {
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!epoll_.valid() || !wake_.valid()) {
    return Status(StatusCode::kUnavailable, "cannot create the handler processes' epoll");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_.get();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event);
  thread_ = std::thread([this] { Loop(); });
  std::unique_lock lock(mu_);
  started_.wait(lock, [&] { return ready_ >= size_ || stats_.start_failures > 0; });
  return stats_.start_failures > 0 ? last_start_error_ : Status::Ok();
}

void HandlerProcessPool::Submit(std::shared_ptr<JobContext> job, Done done) {
  {
    std::lock_guard lock(mu_);
    queued_.push_back({std::move(job), std::move(done)});
  }
  const uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof one);
}

void HandlerProcessPool::Replenish(Clock::time_point now) {
  while (static_cast<int32_t>(slots_.size()) < size_ && now >= next_spawn_) {
    auto process = HandlerProcess::Spawn(options_);
    std::lock_guard lock(mu_);
    if (!process.ok()) {
      StartFailed(process.status(), now);
      return;
    }
    ++stats_.started;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = (*process)->socket_fd();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, event.data.fd, &event);
    slots_.push_back({std::move(*process), false, std::nullopt});
    stats_.running = static_cast<int32_t>(slots_.size());
  }
}

void HandlerProcessPool::StartFailed(const Status& why, Clock::time_point now) {
  ++stats_.start_failures;
  last_start_error_ = why;
  next_spawn_ = now + kRespawnPause;
  spdlog::error("queue {}: {}", queue_, why.message());
  started_.notify_all();
}

void HandlerProcessPool::Dispatch() {
  for (;;) {
    auto idle = std::find_if(slots_.begin(), slots_.end(),
                             [](const Slot& s) { return s.process && s.ready && !s.attempt; });
    if (idle == slots_.end()) return;
    Attempt attempt;
    {
      std::lock_guard lock(mu_);
      if (queued_.empty()) return;
      attempt = std::move(queued_.front());
      queued_.pop_front();
    }
    if (attempt.job->stop_requested()) {
      attempt.done(HandlerResult::Retry("stopped before a handler process took it"));
      continue;
    }
    const size_t index = static_cast<size_t>(idle - slots_.begin());
    idle->attempt = std::move(attempt);
    if (auto outcome = idle->process->Begin(*idle->attempt->job))
      Finish(index, std::move(*outcome));
  }
}

void HandlerProcessPool::Finish(size_t index, HandlerProcess::Outcome outcome) {
  Slot& slot = slots_[index];
  Attempt attempt = std::move(*slot.attempt);
  slot.attempt.reset();
  if (outcome.end != HandlerProcess::End::kReusable) {
    spdlog::warn("queue {}: job {}: {}", queue_, attempt.job->id(), outcome.result.message);
    slot.process.reset();  // ended: reaped (it was stopped, or ended by itself)
  }
  {
    std::lock_guard lock(mu_);
    switch (outcome.end) {
      case HandlerProcess::End::kReusable:
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
  }
  attempt.done(std::move(outcome.result));
}

void HandlerProcessPool::Drop(size_t index) { slots_[index].process.reset(); }

void HandlerProcessPool::Loop() {
  epoll_event events[64];
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    Replenish(Clock::now());
    Dispatch();
    // Wake for the next timer of a running attempt, a start's deadline, or a respawn.
    const Clock::time_point now = Clock::now();
    Clock::time_point wake_at = now + milliseconds(1000);
    for (const Slot& slot : slots_) {
      if (slot.attempt) wake_at = std::min(wake_at, slot.process->NextTimer());
      if (!slot.ready) wake_at = std::min(wake_at, slot.process->start_deadline());
    }
    if (static_cast<int32_t>(slots_.size()) < size_) wake_at = std::min(wake_at, next_spawn_);
    const auto wait = std::chrono::ceil<milliseconds>(std::max(wake_at - now, Clock::duration(0)));
    const int n = ::epoll_wait(epoll_.get(), events, 64, static_cast<int>(wait.count()));
    for (int e = 0; e < n; ++e) {
      const int fd = events[e].data.fd;
      if (fd == wake_.get()) {
        uint64_t count;
        (void)::read(wake_.get(), &count, sizeof count);
        continue;
      }
      auto it = std::find_if(slots_.begin(), slots_.end(), [fd](const Slot& s) {
        return s.process && s.process->socket_fd() == fd;
      });
      if (it == slots_.end()) continue;
      const size_t index = static_cast<size_t>(it - slots_.begin());
      if (!it->ready) {
        auto ready = it->process->ReadReady();
        if (!ready.ok()) {
          std::lock_guard lock(mu_);
          StartFailed(ready.status(), Clock::now());
          Drop(index);
        } else if (*ready) {
          it->ready = true;
          std::lock_guard lock(mu_);
          ++ready_;
          started_.notify_all();
        }
      } else if (it->attempt) {
        if (auto outcome = it->process->OnReadable(*it->attempt->job)) {
          Finish(index, std::move(*outcome));
        }
      } else {
        // An idle process has nothing to say: it ended (killed from outside, or at once after
        // it said it was ready), or broke the protocol. A fresh one takes its place after the
        // pause a failed start gets, so that one that always ends so cannot make this spin.
        spdlog::warn(
            "queue {}: idle handler process {} ended or spoke unasked; replacing it in "
            "{} ms",
            queue_, it->process->pid(), kRespawnPause.count());
        next_spawn_ = Clock::now() + kRespawnPause;
        Drop(index);
      }
    }
    const Clock::time_point after = Clock::now();
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = slots_[i];
      if (!slot.process) continue;
      if (slot.attempt && after >= slot.process->NextTimer()) {
        if (auto outcome = slot.process->OnTimer(*slot.attempt->job))
          Finish(i, std::move(*outcome));
      } else if (!slot.ready && after >= slot.process->start_deadline()) {
        auto ready = slot.process->ReadReady();  // past the deadline: stops it, says why
        std::lock_guard lock(mu_);
        StartFailed(ready.ok() ? Status(StatusCode::kDeadlineExceeded, "no start") : ready.status(),
                    after);
        Drop(i);
      }
    }
    std::erase_if(slots_, [](const Slot& s) { return !s.process; });
    std::unique_lock lock(mu_);
    stats_.running = static_cast<int32_t>(slots_.size());
    // Without a process that can run them, queued attempts would wait for ever: while starts
    // fail and none is ready, they go back to the queue for a while, their attempts not
    // counted, and say why in their logs.
    const bool none_ready =
        std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.ready; });
    if (none_ready && after < next_spawn_ && !queued_.empty()) {
      std::deque<Attempt> failed;
      failed.swap(queued_);
      const std::string why = last_start_error_.message();
      lock.unlock();
      // Not the job's fault: it waits without its attempt counting (as a rate-limited one).
      for (Attempt& attempt : failed) {
        attempt.done(HandlerResult::RateLimited(milliseconds(5000), "no handler process: " + why));
      }
      lock.lock();
    }
  }
  slots_.clear();  // every process: closed, ended and reaped
}

HandlerProcessStats HandlerProcessPool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
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
