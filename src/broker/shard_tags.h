// The hash tags of a sharded queue's shards. Shard 0 of queue q is q itself (its keys are those
// of an unsharded queue); shard i >= 1 is "q#i.<salt>", which no queue name can be ('#' is not a
// name character), with a base-36 salt chosen so that the shard's slot is served by the master
// that serves the fewest shards of q so far: N shards on M masters land on min(N, M) of them,
// evenly. Tags are chosen once, when a shard is created, and stored: a shard's keys are never
// renamed. Pure: no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/cluster_slots.h"
#include "taskq/status.h"

namespace taskq::broker {

// "q#<shard>.<salt in base 36>"; shard 0 is "q".
std::string ShardTag(std::string_view queue, int32_t shard, uint32_t salt);

// The queue a shard's tag belongs to: the text before '#' ("q#2.f" and "q" give "q").
std::string_view QueueOfTag(std::string_view tag);

// The tags of shards 0..shards-1 of `queue` on `masters` masters, where master_of(slot) is the
// index (0..masters-1) of the master serving a slot, or -1 for none. The shards that exist keep
// their tags: `existing` (shard 0 first; empty: none yet) gives them, and new shards go to the
// masters those leave least loaded. Fails when `shards` is out of 1..kMaxShards, or when no salt
// within a bound reaches a master (the slot map covers too little of the key space).
Result<std::vector<std::string>> ChooseShardTags(std::string_view queue, int32_t shards,
                                                 int32_t masters,
                                                 const std::function<int32_t(uint16_t)>& master_of,
                                                 std::span<const std::string> existing = {});
// The same over a cluster's slot map; on one Redis (no map: `map` null) every salt is 0.
Result<std::vector<std::string>> ChooseShardTags(std::string_view queue, int32_t shards,
                                                 const SlotMap* map,
                                                 std::span<const std::string> existing = {});

}  // namespace taskq::broker
