#include "broker/shard_tags.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace taskq::broker {
namespace {

// Masters serving equal, contiguous slot ranges, as redis-cli --cluster create lays them out.
std::function<int32_t(uint16_t)> EvenRanges(int32_t masters) {
  return [masters](uint16_t slot) {
    return static_cast<int32_t>(static_cast<int64_t>(slot) * masters / kClusterSlots);
  };
}

std::map<int32_t, int> ShardsPerMaster(const std::vector<std::string>& tags, int32_t masters) {
  std::map<int32_t, int> out;
  for (const std::string& tag : tags) ++out[EvenRanges(masters)(KeySlot(tag))];
  return out;
}

TEST(ShardTagsTest, ShardZeroIsTheQueueAndTheOthersNameTheirShardAndSalt) {
  EXPECT_EQ(ShardTag("email", 0, 7), "email");
  EXPECT_EQ(ShardTag("email", 1, 0), "email#1.0");
  EXPECT_EQ(ShardTag("email", 2, 35), "email#2.z");
  EXPECT_EQ(ShardTag("email", 31, 36), "email#31.10");
}

TEST(ShardTagsTest, ThreeShardsLandOnThreeMasters) {
  for (const char* queue : {"email", "image-resize", "export", "q", "a.b-c_d"}) {
    auto tags = ChooseShardTags(queue, 3, 3, EvenRanges(3));
    ASSERT_TRUE(tags.ok()) << tags.status().ToString();
    ASSERT_EQ(tags->size(), 3u);
    EXPECT_EQ((*tags)[0], queue);  // shard 0 keeps the unsharded queue's keys
    EXPECT_EQ(ShardsPerMaster(*tags, 3).size(), 3u) << queue;
    EXPECT_EQ(std::set<std::string>(tags->begin(), tags->end()).size(), 3u);
  }
}

TEST(ShardTagsTest, MoreShardsThanMastersWrapEvenly) {
  for (int32_t masters : {1, 2, 5}) {
    for (int32_t shards : {1, 2, 3, 8, 32}) {
      auto tags = ChooseShardTags("orders", shards, masters, EvenRanges(masters));
      ASSERT_TRUE(tags.ok()) << masters << "/" << shards << ": " << tags.status().ToString();
      ASSERT_EQ(static_cast<int32_t>(tags->size()), shards);
      const auto per_master = ShardsPerMaster(*tags, masters);
      int lowest = shards, highest = 0;
      for (int32_t m = 0; m < masters; ++m) {
        const int n = per_master.count(m) ? per_master.at(m) : 0;
        lowest = std::min(lowest, n);
        highest = std::max(highest, n);
      }
      EXPECT_LE(highest - lowest, 1) << masters << " masters, " << shards << " shards";
    }
  }
}

TEST(ShardTagsTest, OneRedisTakesSaltZeroAndTheChoiceIsStable) {
  auto tags = ChooseShardTags("email", 3, nullptr);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(*tags, (std::vector<std::string>{"email", "email#1.0", "email#2.0"}));
  auto again = ChooseShardTags("email", 3, 3, EvenRanges(3));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *ChooseShardTags("email", 3, 3, EvenRanges(3)));
}

TEST(ShardTagsTest, BadCountsAndAnUncoveredMapAreRefused) {
  EXPECT_EQ(ChooseShardTags("email", 0, 3, EvenRanges(3)).status().field(), "shards");
  EXPECT_EQ(ChooseShardTags("email", 33, 3, EvenRanges(3)).status().field(), "shards");
  // Master 1 serves no slot: a second shard can never land there.
  auto stuck = ChooseShardTags("email", 3, 2, [](uint16_t) { return 0; });
  EXPECT_EQ(stuck.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace taskq::broker
