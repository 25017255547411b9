#include "common/shard_placement.h"

#include "common/ids.h"

namespace taskq {

uint64_t PlacementHash(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;  // FNV-1a 64 prime
  }
  return hash;
}

int32_t PlacementShard(const PlacementKeys& job, int32_t shards) {
  if (shards <= 1) return 0;
  const std::string_view key = !job.group.empty()        ? job.group
                               : !job.unique_key.empty() ? job.unique_key
                                                         : job.id;
  return static_cast<int32_t>(PlacementHash(key) % static_cast<uint64_t>(shards));
}

Status CheckShardedPlacement(const PlacementKeys& job) {
  if (!job.group.empty() && !job.unique_key.empty()) {
    return InvalidArgument("unique",
                           "a sharded queue places a grouped job by its group; give a group or a "
                           "unique key, not both");
  }
  return Status::Ok();
}

std::string NewJobIdOnShard(int32_t shard, int32_t shards) {
  // Each draw has its own 50 random bits: about `shards` draws on average. The chance that 4096
  // draws all miss is below (31/32)^4096, about 1e-56.
  std::string id = NewJobId();
  for (int draw = 0; draw < 4096 && PlacementShard({"", "", id}, shards) != shard; ++draw) {
    id = NewJobId();
  }
  return id;
}

}  // namespace taskq
