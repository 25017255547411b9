// A worker process's engine: claims jobs from its queues and runs their handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "taskq/enqueue_options.h"
#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq {

struct QueueConcurrency {
  std::string queue;
  int32_t concurrency = 1;  // jobs of this queue running at once in this process
};

// Parses "email=5,image-resize=2" (a queue without "=N" gets concurrency 1).
Result<std::vector<QueueConcurrency>> ParseQueueList(std::string_view text);

struct WorkerOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "taskq";
  std::vector<QueueConcurrency> queues;
  // A claimed job's lease; the worker renews it every lease/3 while the handler runs. A crashed
  // worker's jobs run again elsewhere once it expires. A worker that cannot renew (Redis
  // unreachable) asks the handler to stop (JobContext::stop_requested) 3/4 of a lease after its
  // last renewal, before another worker can take the job: handlers should check it that often.
  std::chrono::milliseconds lease{30000};
  // How often this worker looks for expired leases (any worker may recover any job).
  std::chrono::milliseconds recover_interval{5000};
  // Leases that may expire on one job before it is declared dead (a job that kills its worker).
  int32_t max_stalls = 3;
  // Timeout of an attempt whose job sets none.
  std::chrono::milliseconds default_timeout{std::chrono::minutes(10)};
  // On Stop: how long running jobs may take to finish before their leases are handed back.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(20)};
  // Idle workers wake on pub/sub at once; this poll only guards against a lost message.
  std::chrono::milliseconds idle_poll{std::chrono::seconds(5)};
  int32_t max_errors_kept = 10;
  int32_t max_log_lines = 100;
  // How often this worker writes its description (host, pid, queues, running jobs) to the worker
  // registry that GET /api/workers reads; listings drop workers silent for 3 intervals.
  std::chrono::milliseconds heartbeat_interval{5000};
  // Refuse to start unless Redis' maxmemory-policy is noeviction.
  bool check_server = true;
};

struct WorkerStats {
  int64_t claimed = 0;
  int64_t completed = 0;
  int64_t failed = 0;       // failed attempts (retrying or dead)
  int64_t rejected = 0;     // results refused because the lease was lost
  int64_t round_trips = 0;  // Redis round trips made by the queue loops
};

class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();  // stops if running
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Handlers are looked up by job type. Register before Start.
  void Register(std::string type, Handler handler, HandlerOptions options = {});

  // Checks Redis and starts the queue loops; returns at once.
  Status Start();
  // Graceful stop: claims nothing more, lets running jobs finish within shutdown_grace, then hands
  // back the leases of those still running so other workers take them at once. Blocks until done.
  void Stop();

  WorkerStats stats() const;
  // Handlers still running after Stop (they ignored stop_requested()); their threads are joined
  // when the Worker is destroyed.
  int64_t stuck_handlers() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taskq
