// Changes to the jobs of a queue, as the scripts that make them record them in the queue's
// capped event stream (docs/redis-keys.md). For live views: a reader that falls more than the
// stream's cap (about 1000 entries) behind misses the oldest events, so treat them as hints to
// re-read, not as a ledger.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace taskq {

struct JobEvent {
  std::string queue;
  std::string stream_id;  // "<ms>-<seq>": the Redis time it was recorded, then a sequence
  // enqueued, active, completed, retrying, dead, removed, waiting (retried, promoted, requeued)
  // or delayed (postponed); paused and resumed are about the queue (count 0, no ids).
  std::string kind;
  int64_t count = 0;                 // jobs that changed
  std::vector<std::string> job_ids;  // the first 100 of them
};

// Where a reader is in one queue's stream.
struct EventCursor {
  std::string queue;
  // Where the reading got to: opaque (a stream id, or one per shard of a sharded queue, comma
  // separated). Empty: only events recorded from the first read on.
  std::string last_id;
};

}  // namespace taskq
