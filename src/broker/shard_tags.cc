#include "broker/shard_tags.h"

#include <algorithm>

#include "common/shard_placement.h"

namespace taskq::broker {
namespace {

// Salts tried per shard before giving up. A master serving a 1/M share of the slots is hit with
// probability about 1/M per salt: with M up to a few hundred, 100,000 salts never run out on a
// slot map that covers the key space.
constexpr uint32_t kMaxSalts = 100000;

std::string Base36(uint32_t value) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[value % 36]);
    value /= 36;
  } while (value > 0);
  return out;
}

}  // namespace

std::string ShardTag(std::string_view queue, int32_t shard, uint32_t salt) {
  if (shard == 0) return std::string(queue);
  return std::string(queue) + "#" + std::to_string(shard) + "." + Base36(salt);
}

std::string_view QueueOfTag(std::string_view tag) { return tag.substr(0, tag.find('#')); }

Result<std::vector<std::string>> ChooseShardTags(std::string_view queue, int32_t shards,
                                                 int32_t masters,
                                                 const std::function<int32_t(uint16_t)>& master_of,
                                                 std::span<const std::string> existing) {
  if (shards < 1 || shards > kMaxShards) {
    return InvalidArgument("shards", "must be from 1 to " + std::to_string(kMaxShards));
  }
  if (masters < 1) return InvalidArgument("masters", "at least one master serves the queue");
  std::vector<int32_t> load(static_cast<size_t>(masters), 0);
  std::vector<std::string> tags = {std::string(queue)};
  for (size_t i = 1; i < existing.size() && tags.size() < static_cast<size_t>(shards); ++i) {
    tags.push_back(existing[i]);
  }
  for (const std::string& tag : tags) {
    const int32_t master = master_of(KeySlot(tag));
    if (master >= 0 && master < masters) ++load[static_cast<size_t>(master)];
  }
  for (auto shard = static_cast<int32_t>(tags.size()); shard < shards; ++shard) {
    // The least loaded master, the first in the map's order on a tie.
    const auto target =
        static_cast<int32_t>(std::min_element(load.begin(), load.end()) - load.begin());
    bool placed = false;
    for (uint32_t salt = 0; salt < kMaxSalts && !placed; ++salt) {
      std::string tag = ShardTag(queue, shard, salt);
      if (master_of(KeySlot(tag)) != target) continue;
      ++load[static_cast<size_t>(target)];
      tags.push_back(std::move(tag));
      placed = true;
    }
    if (!placed) {
      return Status(StatusCode::kFailedPrecondition,
                    "no slot of master " + std::to_string(target) + " found for shard " +
                        std::to_string(shard) + " of " + std::string(queue) +
                        ": the cluster's slot map covers too little",
                    "shards");
    }
  }
  return tags;
}

Result<std::vector<std::string>> ChooseShardTags(std::string_view queue, int32_t shards,
                                                 const SlotMap* map,
                                                 std::span<const std::string> existing) {
  if (map == nullptr) {
    return ChooseShardTags(
        queue, shards, 1, [](uint16_t) { return 0; }, existing);
  }
  const std::vector<ClusterNode>& masters = map->masters();
  return ChooseShardTags(
      queue, shards, static_cast<int32_t>(masters.size()),
      [&](uint16_t slot) -> int32_t {
        const ClusterNode* node = map->MasterOf(slot);
        if (node == nullptr) return -1;
        for (size_t i = 0; i < masters.size(); ++i) {
          if (masters[i].id == node->id) return static_cast<int32_t>(i);
        }
        return -1;
      },
      existing);
}

}  // namespace taskq::broker
