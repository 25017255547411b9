#include "common/shard_placement.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace taskq {
namespace {

TEST(ShardPlacementTest, HashIsFnv1a64) {
  // The published FNV-1a 64 test vectors.
  EXPECT_EQ(PlacementHash(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(PlacementHash("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(PlacementHash("foobar"), 0x85944171f73967e8ull);
}

TEST(ShardPlacementTest, AGroupThenAUniqueKeyThenTheIdPlacesAJob) {
  const int32_t n = 7;
  const int32_t by_group = PlacementShard({"tenant-9", "", "id-1"}, n);
  // Every job of a group goes where its group does, whatever its id or key.
  for (const char* id : {"id-1", "id-2", "01JX0000000000000000"}) {
    EXPECT_EQ(PlacementShard({"tenant-9", "", id}, n), by_group) << id;
  }
  EXPECT_EQ(by_group, static_cast<int32_t>(PlacementHash("tenant-9") % n));
  EXPECT_EQ(PlacementShard({"", "user:42", "id-1"}, n),
            static_cast<int32_t>(PlacementHash("user:42") % n));
  EXPECT_EQ(PlacementShard({"", "", "id-1"}, n), static_cast<int32_t>(PlacementHash("id-1") % n));
  // One shard, or none configured: always shard 0.
  EXPECT_EQ(PlacementShard({"tenant-9", "", "id-1"}, 1), 0);
  EXPECT_EQ(PlacementShard({"", "", "id-1"}, 0), 0);
}

TEST(ShardPlacementTest, IdsSpreadOverEveryShard) {
  std::map<int32_t, int> per_shard;
  for (int i = 0; i < 3000; ++i)
    ++per_shard[PlacementShard({"", "", "job-" + std::to_string(i)}, 3)];
  ASSERT_EQ(per_shard.size(), 3u);
  for (const auto& [shard, count] : per_shard) {
    EXPECT_GT(count, 850) << shard;  // 1000 expected; 850 is far in the tail
    EXPECT_LT(count, 1150) << shard;
  }
}

TEST(ShardPlacementTest, GeneratedIdsLandOnTheShardAskedFor) {
  std::set<std::string> ids;
  for (int32_t shards : {1, 2, 3, 32}) {
    for (int32_t i = 0; i < 3 * shards; ++i) {
      const int32_t target = i % shards;
      const std::string id = NewJobIdOnShard(target, shards);
      EXPECT_EQ(id.size(), 20u);
      EXPECT_EQ(PlacementShard({"", "", id}, shards), target) << id;
      EXPECT_TRUE(ids.insert(id).second) << "repeated " << id;
    }
  }
}

TEST(ShardPlacementTest, AGroupAndAUniqueKeyTogetherAreRefused) {
  Status both = CheckShardedPlacement({"tenant-9", "user:42", "id-1"});
  EXPECT_EQ(both.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(both.field(), "unique");
  EXPECT_TRUE(CheckShardedPlacement({"tenant-9", "", "id-1"}).ok());
  EXPECT_TRUE(CheckShardedPlacement({"", "user:42", "id-1"}).ok());
}

}  // namespace
}  // namespace taskq
