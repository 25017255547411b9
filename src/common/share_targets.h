// How a sharded queue's concurrency is best split over its shards given the work each has
// (docs/limits.md, "Sharded queues"): share_move.lua then moves the shares toward these targets.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace taskq {

// The targets for `total` slots over demand.size() shards (total >= shards), demand[i] being
// the jobs active or waiting on shard i. Each shard keeps at least 1 (its jobs can always
// start). Beyond that, when the demand fits, each shard gets what it needs and the rest is
// spread evenly (room for a burst anywhere); when it does not, the slots go in proportion to
// each shard's need beyond 1, largest remainders first (ties to the lower index). The targets
// add up to `total`.
std::vector<int64_t> ShareTargets(int64_t total, std::span<const int64_t> demand);

}  // namespace taskq
