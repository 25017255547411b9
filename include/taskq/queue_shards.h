// A sharded queue's shards, one by one (Inspector::ShardBreakdown; docs/architecture.md,
// "Sharded queues").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "taskq/queue_counts.h"

namespace taskq {

struct QueueShard {
  int32_t index = 0;
  std::string tag;  // the hash tag of its keys: the queue's name for shard 0
  QueueCounts counts;
  // host:port of the master serving this shard's slot; empty when not on a cluster (or when no
  // master serves the slot).
  std::string master;
};

struct QueueShards {
  int64_t version = 0;  // of the layout; 0: never sharded
  std::vector<QueueShard> shards;
};

}  // namespace taskq
