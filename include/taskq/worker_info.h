// What a running worker process tells the others about itself (its heartbeat), as the inspector
// and GET /api/workers report it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace taskq {

struct WorkerQueueInfo {
  std::string queue;
  int32_t concurrency = 0;
  int32_t running = 0;  // jobs running now
  // Process isolation (WorkerOptions: Isolation::kProcess): its handlers run in handler
  // processes, of which `processes` are alive now.
  bool isolated = false;
  int32_t processes = 0;
};

struct WorkerInfo {
  std::string id;  // "<host>:<pid>:<random>", unique per process start
  std::string host;
  int64_t pid = 0;
  std::vector<WorkerQueueInfo> queues;
  std::vector<std::string> job_types;  // handlers registered
  int64_t started_ms = 0;              // Unix ms, the worker's clock
  int64_t completed = 0;               // jobs completed by this process
  int64_t failed = 0;                  // failed attempts in this process
  int64_t heartbeat_ms = 0;            // Redis time of the last heartbeat (set when read back)
};

}  // namespace taskq
