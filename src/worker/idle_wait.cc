#include "worker/idle_wait.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace taskq::worker {
namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
}  // namespace

IdleWait::IdleWait(std::string queue, SubscribeFunction subscribe)
    : queue_(std::move(queue)),
      subscribe_(std::move(subscribe)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_fd_ < 0 && subscribe_) {
    spdlog::warn("queue {}: no eventfd ({}); the idle loop polls for new work", queue_,
                 std::strerror(errno));
  }
}

IdleWait::~IdleWait() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void IdleWait::Interrupt() {
  if (waiting_on_redis_.load()) {
    const uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof(one)) < 0) {
      // EAGAIN: the counter is full, so the loop is signalled already
    }
  }
}

bool IdleWait::Wait(std::unique_lock<std::mutex>& lock, std::condition_variable& changed,
                    Clock::time_point until) {
  const bool can_subscribe = subscribe_ && wake_fd_ >= 0;
  if (!subscription_ && can_subscribe && Clock::now() >= subscribe_after_) {
    lock.unlock();
    auto subscribed = subscribe_();
    lock.lock();
    if (subscribed.ok()) {
      subscription_ = std::move(*subscribed);
      subscribe_pause_ = milliseconds(100);
      return true;  // anything published before the subscription took effect
    }
    spdlog::warn("queue {}: wake subscription: {}; retrying in {} ms", queue_,
                 subscribed.status().ToString(), subscribe_pause_.count());
    SubscribeLater();
    return false;
  }
  if (!subscription_) {
    changed.wait_until(lock, can_subscribe ? std::min(until, subscribe_after_) : until);
    return false;
  }
  // Set with the loop's mutex held, in the same hold as the loop's last look at its state: a
  // change made after that look finds it set and signals wake_fd_.
  waiting_on_redis_.store(true);
  lock.unlock();
  // Rounded up: a wait rounded down to 0 ms would spin until `until`.
  const auto timeout =
      std::chrono::ceil<milliseconds>(std::max(until - Clock::now(), Clock::duration::zero()));
  auto woken = subscription_->Wait(wake_fd_, timeout);
  lock.lock();
  waiting_on_redis_.store(false);
  return TakeWakes(woken);
}

bool IdleWait::PollWhileBusy() {
  if (!subscription_) return false;
  return TakeWakes(subscription_->Wait(wake_fd_, milliseconds(0)));
}

void IdleWait::SubscribeLater() {
  subscribe_after_ = Clock::now() + subscribe_pause_;
  subscribe_pause_ = std::min(subscribe_pause_ * 2, milliseconds(2000));
}

bool IdleWait::TakeWakes(const Result<std::vector<std::string>>& woken) {
  if (!woken.ok()) {
    spdlog::warn("queue {}: wake subscription lost ({}); subscribing again", queue_,
                 woken.status().ToString());
    subscription_.reset();
    SubscribeLater();  // not at once: a subscription that drops at once would be re-opened in a
                       // loop
    return true;       // wakes may have been missed meanwhile
  }
  return !woken->empty();
}

}  // namespace taskq::worker
