// How a processor's loop waits while it has nothing to send: on its queue's wake subscription in
// Redis when it has one (so new work starts at once), else on its condition variable alone (so
// it polls). Any thread interrupts the wait through Interrupt(), after changing what the loop
// looks at. Only the loop thread calls Wait and PollWhileBusy.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "broker/broker.h"

namespace taskq::worker {

using SubscribeFunction = std::function<Result<std::unique_ptr<broker::WakeSubscription>>()>;

class IdleWait {
 public:
  // `subscribe` opens the queue's wake subscription; empty: the loop polls only.
  IdleWait(std::string queue, SubscribeFunction subscribe);
  ~IdleWait();
  IdleWait(const IdleWait&) = delete;
  IdleWait& operator=(const IdleWait&) = delete;

  // Waits with `lock` released until `until`, a notification of `changed` (or Interrupt), or a
  // wake from Redis. Opens the subscription first if there is none (and returns at once then,
  // having released `lock`: the loop looks at its state again). True when a wake arrived or may
  // have been missed (a subscription opened or lost): the queue may hold work.
  bool Wait(std::unique_lock<std::mutex>& lock, std::condition_variable& changed,
            std::chrono::steady_clock::time_point until);
  // Reads the wakes that came while the loop was busy, without blocking, so that they do not
  // pile up in Redis (which drops a subscriber that lags too far behind). Call without the
  // loop's mutex held; true as for Wait.
  bool PollWhileBusy();
  // Ends a Wait blocked on Redis. Any thread; cheap when nothing waits.
  void Interrupt();

 private:
  // The next subscribe attempt waits (backoff).
  void SubscribeLater();
  // True for wakes received; drops a lost subscription (then true: wakes may have been missed).
  bool TakeWakes(const Result<std::vector<std::string>>& woken);

  const std::string queue_;
  const SubscribeFunction subscribe_;
  // An eventfd: Interrupt signals it while Wait blocks in the subscription's poll. Without one
  // nothing could interrupt that wait, so the loop then polls only.
  const int wake_fd_;
  std::atomic<bool> waiting_on_redis_{false};
  // The loop thread's only.
  std::unique_ptr<broker::WakeSubscription> subscription_;
  std::chrono::steady_clock::time_point subscribe_after_{};
  std::chrono::milliseconds subscribe_pause_{100};
};

}  // namespace taskq::worker
