// Placement of jobs on the shards of a sharded queue: one logical queue spread over N hash tags
// (shards), so that a Redis Cluster serves it from N masters. Which shard a job goes to is a pure
// function of the job, so that an enqueue retried with the same id lands where the first one
// did, and a group's jobs, or the holder of a unique key, stay on one shard (its limits and its
// key stay exact there).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq {

// At most this many shards per queue: each costs every worker of the queue a claim loop and a
// connection per shard.
constexpr int32_t kMaxShards = 32;

// 64-bit FNV-1a of the bytes. Unrelated to Redis' CRC16 slots, so the shards' slots and the
// jobs' placement are independent.
uint64_t PlacementHash(std::string_view bytes);

// What places a job: its group (given, or read from the queue's group field), else its unique
// key, else its id.
struct PlacementKeys {
  std::string_view group;       // empty: none
  std::string_view unique_key;  // empty: none
  std::string_view id;
};

// The shard of a job on a queue of `shards` shards (1..kMaxShards): H(group), else H(unique
// key), else H(id), modulo `shards`.
int32_t PlacementShard(const PlacementKeys& job, int32_t shards);

// A job with both a group and a unique key cannot be placed on a sharded queue: its group puts
// it on one shard and its key may be held on another. kInvalidArgument naming "unique".
Status CheckShardedPlacement(const PlacementKeys& job);

// A new job id (common/ids.h) that PlacementShard puts on `shard` of `shards`: generated ids
// then go round robin exactly, and stay time-ordered.
std::string NewJobIdOnShard(int32_t shard, int32_t shards);

}  // namespace taskq
