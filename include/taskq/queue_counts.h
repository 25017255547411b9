// A queue's size per state and its lifetime counters.
#pragma once

#include <algorithm>
#include <cstdint>

namespace taskq {

struct QueueCounts {
  int64_t waiting = 0;
  int64_t delayed = 0;
  int64_t active = 0;
  int64_t completed = 0;  // kept by retention
  int64_t retrying = 0;
  int64_t dead = 0;  // kept by retention
  int64_t held = 0;  // flow parents waiting for their children (JobState::kHeld)
  bool paused = false;
  int64_t completed_total = 0;  // completions ever recorded
  int64_t failed_total = 0;     // failed attempts ever recorded
  int64_t stalled_total = 0;    // expired leases ever recovered
  int64_t enqueued_total = 0;   // jobs ever created
  int64_t retried_total = 0;    // failed attempts ever followed by a retry
  int64_t dead_total = 0;       // jobs that ever went dead (failed for good, or stalled out)
  // Completion callbacks not yet relayed (entries of the queue's outbox).
  int64_t callbacks_pending = 0;
  // Running jobs whose attempt passed its timeout while the handler still runs (Job), and how
  // many attempts ever did.
  int64_t overrunning = 0;
  int64_t overran_total = 0;
  // Created time of the oldest job at the head of the waiting list, of the priority order or of
  // one of the next 8 groups on the ring (0 when nothing waits), and Redis' clock when counted:
  // their difference is the wait age.
  int64_t oldest_waiting_created_ms = 0;
  int64_t now_ms = 0;
  // The shards the queue is spread over (docs/architecture.md, "Sharded queues"); the counts
  // above are their sums.
  int32_t shards = 1;

  // How long that oldest job has waited (0 when nothing waits).
  int64_t oldest_waiting_age_ms() const {
    return oldest_waiting_created_ms > 0 ? std::max<int64_t>(0, now_ms - oldest_waiting_created_ms)
                                         : 0;
  }
};

}  // namespace taskq
