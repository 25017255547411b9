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

// Where a queue's handlers run.
enum class Isolation {
  // On the worker's handler threads: the fastest hand-over, but a handler that crashes takes the
  // whole process down, and one that ignores its timeout keeps its thread.
  kThread,
  // In handler processes of the queue's own, one per slot, reused across jobs: a crash or an
  // out-of-memory fails that attempt only, an attempt past its deadline (plus
  // WorkerOptions::handler_kill_grace) is stopped for real, and a memory cap applies.
  kProcess,
};

struct QueueConcurrency {
  std::string queue;
  int32_t concurrency = 1;  // jobs of this queue running at once in this process
  Isolation isolation = Isolation::kThread;
};

// Parses "email=5,image-resize=2:process": each queue with its concurrency (default 1) and its
// isolation (":thread", the default, or ":process").
Result<std::vector<QueueConcurrency>> ParseQueueList(std::string_view text);

// A queue spread over shards (docs/architecture.md, "Sharded queues").
struct QueueShardCount {
  std::string queue;
  int32_t shards = 1;  // 1..32
};
// "email=3,webhook=2" (the --queue-shards flag); empty: none.
Result<std::vector<QueueShardCount>> ParseQueueShards(std::string_view text);

// True in a process that a worker started as one of its handler processes (Isolation::kProcess).
// Handler processes are started by exec of the worker's own program with its own arguments, so
// a program that runs workers with process isolation calls this first in main, before it starts
// anything else; when true, it registers its handlers on a Worker as always and calls
// Worker::ServeHandlerProcess() instead of Worker::Start().
bool IsHandlerProcess();

struct WorkerOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "taskq";
  std::vector<QueueConcurrency> queues;
  // Shards to spread queues over at start (Inspector::SetShards); a change the queue refuses
  // (jobs waiting, limits) is logged and the stored layout kept, so that a rolling deploy never
  // fails to start. Queues not listed keep their layout.
  std::vector<QueueShardCount> queue_shards;
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
  // Completion callbacks (EnqueueOptions::callback_url) of jobs that finish in any queue become
  // `webhook` jobs in this queue; some worker must run the `webhook` type from it.
  std::string callback_queue = "webhook";
  // Queue history (docs/metrics.md, "History"): every worker records one sample of every queue
  // per bucket, and `history_keep` buckets are kept. Every worker of a deployment should use the
  // same bucket; 0 records none. Short buckets are for tests and demonstrations.
  std::chrono::milliseconds history_bucket{60000};
  int32_t history_keep = 1440;

  // Process isolation (Isolation::kProcess).
  // Each handler process's memory cap in MiB; a handler past it fails its attempt with "memory
  // limit exceeded". 0: no cap. Where handler_cgroup gives a cgroup v2 parent, the cap is the
  // memory.max of a cgroup of each process's own (what it really uses); else the process's
  // RLIMIT_DATA (its heap and other private writable mappings). The worker logs which.
  int64_t handler_memory_limit_mb = 0;
  // "auto": this process's own cgroup v2 directory if it may create cgroups in it (delegated)
  // and the memory controller is available there (this process then moves into a leaf cgroup
  // of its own), else RLIMIT_DATA; "off": RLIMIT_DATA; or the path of a cgroup v2 directory to
  // create them in (a delegated one with no processes of its own), which must work or Start
  // fails.
  std::string handler_cgroup = "auto";
  // How long a handler may run on past its attempt's deadline, or past a stop request (cancel,
  // lost lease, shutdown), before its process is stopped (SIGTERM, then SIGKILL).
  std::chrono::milliseconds handler_kill_grace{1000};
  // The program and arguments of handler processes; empty: this program (/proc/self/exe) with
  // the arguments this process was started with.
  std::vector<std::string> handler_command;
};

struct WorkerStats {
  int64_t claimed = 0;
  int64_t completed = 0;
  int64_t failed = 0;       // failed attempts (retrying or dead)
  int64_t rejected = 0;     // results refused because the lease was lost
  int64_t round_trips = 0;  // Redis round trips made by the queue loops
  // Handler processes (Isolation::kProcess), over all queues: started (replacements included),
  // stopped at an attempt's deadline, stopped after a stop request, out of memory under the cap,
  // and ended by themselves mid-job (crashes).
  int64_t handler_processes_started = 0;
  int64_t handler_processes_timed_out = 0;
  int64_t handler_processes_stopped = 0;
  int64_t handler_processes_out_of_memory = 0;
  int64_t handler_processes_crashed = 0;
};

class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();  // stops if running
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Handlers are looked up by job type. Register before Start.
  void Register(std::string type, Handler handler, HandlerOptions options = {});

  // Checks Redis, starts the handler processes of queues in process isolation, and starts the
  // queue loops; returns at once. Refused in a handler process (IsHandlerProcess()).
  Status Start();
  // In a handler process: runs the jobs its worker sends with the handlers registered here until
  // the worker closes the connection, and returns the exit code for main. Elsewhere: returns 2
  // at once.
  int ServeHandlerProcess();
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
