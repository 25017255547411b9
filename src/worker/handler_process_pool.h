// The handler processes of one queue in process isolation: long-lived processes reused across
// jobs, one per slot, each running one attempt at a time. A process that crashed or was stopped
// is replaced by a fresh one when the next job needs it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
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
  ~HandlerProcessPool();  // ends the idle processes; busy ones must have returned
  HandlerProcessPool(const HandlerProcessPool&) = delete;
  HandlerProcessPool& operator=(const HandlerProcessPool&) = delete;

  // Starts the pool's processes; the first error if one cannot start.
  Status Start();
  // Runs one attempt in an idle process (starting one when none is idle) and returns its
  // result; how the process ended is logged and counted. Any thread; at most `size` at once.
  HandlerResult Run(JobContext& job);
  HandlerProcessStats stats() const;

 private:
  const std::string queue_;
  const HandlerProcessOptions options_;
  const int32_t size_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<HandlerProcess>> idle_;  // guarded by mu_
  int32_t busy_ = 0;                                   // guarded by mu_: attempts running
  HandlerProcessStats stats_;                          // guarded by mu_ (but running)
};

}  // namespace taskq::worker
