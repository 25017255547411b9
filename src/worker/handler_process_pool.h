// The handler processes of one queue in process isolation: long-lived processes reused across
// jobs, one per slot, each running one attempt at a time, all driven by the pool's own thread.
// A job is handed over without a thread of its own: Submit queues it, the pool's thread sends it
// to an idle process, waits on every process at once (epoll), and calls back with the result. A
// process that crashed or was stopped is replaced at once by a fresh one. The pool's thread
// starts every process, and lives as long as the pool: a handler process ends when the thread
// that started it does (PR_SET_PDEATHSIG).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "taskq/handler.h"
#include "taskq/status.h"
#include "worker/handler_process.h"

namespace taskq::worker {

// Counts since the pool started.
struct HandlerProcessStats {
  int32_t running = 0;         // processes alive now, starting, idle or busy
  int64_t started = 0;         // processes started, the first ones included
  int64_t timeout_kills = 0;   // stopped at an attempt's deadline plus the grace
  int64_t stop_kills = 0;      // stopped the grace after a stop request (cancel, lease, shutdown)
  int64_t memory_kills = 0;    // their handler ran out of memory under the cap
  int64_t crashes = 0;         // ended by themselves mid-job, or broke the protocol
  int64_t start_failures = 0;  // could not be started
};

class HandlerProcessPool {
 public:
  // Called once with an attempt's result, on the pool's thread.
  using Done = std::function<void(HandlerResult)>;

  HandlerProcessPool(std::string queue, HandlerProcessOptions options, int32_t size);
  // Ends the pool's thread and every process; attempts still queued or running are dropped
  // without their callbacks (their owner is going too).
  ~HandlerProcessPool();
  HandlerProcessPool(const HandlerProcessPool&) = delete;
  HandlerProcessPool& operator=(const HandlerProcessPool&) = delete;

  // Starts the pool's thread and waits until its processes are ready; the first error if one
  // cannot start.
  Status Start();
  // Queues one attempt of `job`. Never waits on a process, so any thread may call it, also one
  // holding a lock that `done` takes: `done` runs later, on the pool's thread, with none of the
  // pool's locks held. An attempt whose job was asked to stop before a process took it ends
  // without running.
  void Submit(std::shared_ptr<JobContext> job, Done done);
  HandlerProcessStats stats() const;
  // The counts' increments since the last call, as metrics hash fields ("hp:started",
  // "hp:timed_out", "hp:stopped", "hp:out_of_memory", "hp:crashed"; those that moved), for the
  // heartbeat to add to the queue's metrics (docs/metrics.md).
  std::vector<std::pair<std::string, int64_t>> DrainCounters();

 private:
  struct Attempt {
    std::shared_ptr<JobContext> job;
    Done done;
  };
  // One process and what it does now; the pool's thread's only.
  struct Slot {
    std::unique_ptr<HandlerProcess> process;
    bool ready = false;
    std::optional<Attempt> attempt;  // running in it
  };

  void Loop();  // the pool's thread
  // Keeps `size` processes alive: spawns the missing ones. Pool's thread.
  void Replenish(std::chrono::steady_clock::time_point now);
  // Hands queued attempts to ready idle processes. Pool's thread.
  void Dispatch();
  // An attempt ended in `slot`: counts it, drops the process unless reusable, calls back.
  void Finish(size_t slot, HandlerProcess::Outcome outcome);
  // A process failed to start: counted, logged, the next start paused, Start told. mu_ held.
  void StartFailed(const Status& why, std::chrono::steady_clock::time_point now);
  // A process that is not running an attempt ended or failed to start.
  void Drop(size_t slot);

  const std::string queue_;
  const HandlerProcessOptions options_;
  const int32_t size_;
  UniqueFd epoll_, wake_;  // wake_: an eventfd that Submit and the destructor signal

  mutable std::mutex mu_;
  std::condition_variable started_;  // Start waits: all ready, or a start failed
  std::deque<Attempt> queued_;       // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  HandlerProcessStats stats_;        // guarded by mu_
  HandlerProcessStats drained_;      // guarded by mu_: stats_ at the last drain
  int32_t ready_ = 0;                // guarded by mu_: processes ready so far (for Start)
  Status last_start_error_;          // guarded by mu_

  // The pool's thread's only.
  std::vector<Slot> slots_;
  std::chrono::steady_clock::time_point next_spawn_{};  // after a failed start: not before this
  std::thread thread_;
};

}  // namespace taskq::worker
