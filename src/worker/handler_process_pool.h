// The handler processes of one queue in process isolation: long-lived processes reused across
// jobs, one per slot, each running one attempt at a time. A process that crashed or was stopped
// is replaced at once by a fresh one. Every process is started by the pool's own thread, which
// lives as long as the pool: a handler process ends when the thread that started it does
// (PR_SET_PDEATHSIG), so no process may be started from a thread that ends sooner.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "taskq/handler.h"
#include "taskq/status.h"
#include "worker/handler_process.h"

namespace taskq::worker {

// Counts since the pool started.
struct HandlerProcessStats {
  int32_t running = 0;         // processes alive now, idle or busy
  int64_t started = 0;         // processes started, the first ones included
  int64_t timeout_kills = 0;   // stopped at an attempt's deadline plus the grace
  int64_t stop_kills = 0;      // stopped the grace after a stop request (cancel, lease, shutdown)
  int64_t memory_kills = 0;    // their handler ran out of memory under the cap
  int64_t crashes = 0;         // ended by themselves mid-job, or broke the protocol
  int64_t start_failures = 0;  // could not be started
};

class HandlerProcessPool {
 public:
  HandlerProcessPool(std::string queue, HandlerProcessOptions options, int32_t size);
  // Stops the replacing thread and ends the idle processes; attempts must have returned.
  ~HandlerProcessPool();
  HandlerProcessPool(const HandlerProcessPool&) = delete;
  HandlerProcessPool& operator=(const HandlerProcessPool&) = delete;

  // Starts the pool's thread and waits until it has started the pool's processes; the first
  // error if one cannot start.
  Status Start();
  // Runs one attempt in an idle process (waiting for one while a replacement starts) and returns
  // its result; how the process ended is logged and counted. Any thread; at most `size` at once.
  HandlerResult Run(JobContext& job);
  HandlerProcessStats stats() const;
  // The counts' increments since the last call, as metrics hash fields ("hp:started",
  // "hp:timed_out", "hp:stopped", "hp:out_of_memory", "hp:crashed"; those that moved), for the
  // heartbeat to add to the queue's metrics (docs/metrics.md).
  std::vector<std::pair<std::string, int64_t>> DrainCounters();

 private:
  // The pool's thread: keeps `size` processes alive, waiting a second after a failed start.
  void Replace();

  const std::string queue_;
  const HandlerProcessOptions options_;
  const int32_t size_;
  mutable std::mutex mu_;
  std::condition_variable changed_;  // alive_ or idle_ changed, a start failed, or stopping_
  std::vector<std::unique_ptr<HandlerProcess>> idle_;  // guarded by mu_
  int32_t alive_ = 0;                                  // guarded by mu_: idle and in use
  bool stopping_ = false;                              // guarded by mu_
  // Guarded by mu_: starts that failed so far, and the last one's error.
  int64_t failed_starts_ = 0;
  Status last_start_error_;
  HandlerProcessStats stats_;    // guarded by mu_ (but running)
  HandlerProcessStats drained_;  // guarded by mu_: stats_ at the last drain
  std::thread starter_;
};

}  // namespace taskq::worker
