// How a sharded queue's concurrency is best split over its shards given the work each has
// (docs/limits.md, "Sharded queues"): share_move.lua then moves the shares toward these targets.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace taskq {

// The targets for `total` slots over demand.size() shards, demand[i] being the jobs active or
// waiting on shard i. Each shard keeps at least floors[i] (empty: 1 each; at least 1 each, adding
// up to at most `total`): a shard's jobs can always start, and a share is not cut below what
// runs. Beyond the floors, when the demand fits, each shard gets what it needs and the rest is
// spread evenly (room for a burst anywhere); when it does not, the slots go in proportion to each
// shard's need beyond its floor, largest remainders first (ties to the lower index). The
// targets add up to `total` (when total >= the sum of the floors).
std::vector<int64_t> ShareTargets(int64_t total, std::span<const int64_t> demand,
                                  std::span<const int64_t> floors = {});

}  // namespace taskq
