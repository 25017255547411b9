#include "common/share_targets.h"

#include <algorithm>
#include <numeric>

namespace taskq {

std::vector<int64_t> ShareTargets(int64_t total, std::span<const int64_t> demand,
                                  std::span<const int64_t> floors) {
  const auto n = static_cast<int64_t>(demand.size());
  std::vector<int64_t> targets(demand.size(), 1);
  if (floors.size() == demand.size()) targets.assign(floors.begin(), floors.end());
  const int64_t floored = std::accumulate(targets.begin(), targets.end(), int64_t{0});
  if (n == 0 || total <= floored) return targets;
  const int64_t pool = total - floored;  // the slots beyond the floors
  std::vector<int64_t> need(demand.size());
  for (size_t i = 0; i < demand.size(); ++i) {
    need[i] = std::max<int64_t>(demand[i] - targets[i], 0);
  }
  const int64_t needed = std::accumulate(need.begin(), need.end(), int64_t{0});
  if (needed <= pool) {
    const int64_t spare = pool - needed;
    for (int64_t i = 0; i < n; ++i) {
      targets[i] += need[i] + spare / n + (i < spare % n ? 1 : 0);
    }
    return targets;
  }
  // In proportion to need: the floors first, then one each to the largest remainders.
  int64_t given = 0;
  std::vector<std::pair<int64_t, int64_t>> remainders;  // (-remainder, index): sorts largest first
  for (int64_t i = 0; i < n; ++i) {
    const __int128 scaled = static_cast<__int128>(pool) * need[i];
    const auto floor = static_cast<int64_t>(scaled / needed);
    targets[i] += floor;
    given += floor;
    remainders.push_back({-static_cast<int64_t>(scaled % needed), i});
  }
  std::sort(remainders.begin(), remainders.end());
  for (int64_t k = 0; k < pool - given; ++k) ++targets[remainders[k].second];
  return targets;
}

}  // namespace taskq
