// Wakes long polls (GET /api/jobs/{id}/wait) when their job changes: one thread reads the job
// events of the queues that have waiters (Inspector::WaitEvents, a blocking XREAD) and calls the
// wake of every waiter whose job an event names (every waiter of the queue when the event lists
// only the first of its ids). The caller re-reads the job then. The thread and its Redis
// connection run only while someone waits.
//
// An event is what a state change writes in the same script, so a wake never comes before the
// change. A change can still go unseen: one recorded between the caller's read of the job and
// its registration here, or trimmed from the capped stream before it was read, or while Redis
// was unreachable. So callers also re-read on a timer of their own (the fallback), which bounds
// the delay of such a rare miss.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "taskq/inspector.h"

namespace taskq::api {

class JobWaiters {
 public:
  using Wake = std::function<void()>;

  // `read_wait`: the longest blocking read, so a new queue is picked up at least that often.
  JobWaiters(InspectorOptions redis, std::chrono::milliseconds read_wait);
  ~JobWaiters();  // Stop()
  JobWaiters(const JobWaiters&) = delete;
  JobWaiters& operator=(const JobWaiters&) = delete;

  // Calls `wake` (on this object's thread, at most once) at the next event that names `id` in
  // `queue`. Returns a ticket for Remove.
  int64_t Add(const std::string& queue, const std::string& id, Wake wake);
  // The waiter is gone (answered or timed out); a no-op when it was woken already.
  void Remove(int64_t ticket);
  size_t waiting() const;
  // Ends the thread and drops the waiters left, unwoken.
  void Stop();

 private:
  struct Waiter {
    std::string queue, id;
    Wake wake;
  };
  void Run();

  const InspectorOptions redis_;
  const std::chrono::milliseconds read_wait_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<int64_t, Waiter> waiters_;  // guarded by mu_
  int64_t next_ticket_ = 0;            // guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  std::thread thread_;                 // last: Run() uses the members above
};

}  // namespace taskq::api
