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

// Growing keeps every existing shard's tag (its keys cannot move) and puts the new shards on the
// masters the existing ones leave least loaded; shrinking keeps the first tags.
TEST(ShardTagsTest, ExistingShardsKeepTheirTagsAndNewOnesFillTheEmptiestMasters) {
  auto two = ChooseShardTags("email", 2, 3, EvenRanges(3));
  ASSERT_TRUE(two.ok());
  auto three = ChooseShardTags("email", 3, 3, EvenRanges(3), *two);
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ((*three)[0], (*two)[0]);
  EXPECT_EQ((*three)[1], (*two)[1]);
  EXPECT_EQ(ShardsPerMaster(*three, 3).size(), 3u);
  // An existing shard sharing shard 0's master (a tag chosen on another slot map) keeps its
  // tag, and the new shards go to the two other masters.
  const auto master = EvenRanges(3);
  std::string crowded;
  for (uint32_t salt = 0; crowded.empty(); ++salt) {
    if (master(KeySlot(ShardTag("email", 1, salt))) == master(KeySlot("email"))) {
      crowded = ShardTag("email", 1, salt);
    }
  }
  auto grown = ChooseShardTags("email", 4, 3, master, std::vector<std::string>{"email", crowded});
  ASSERT_TRUE(grown.ok());
  EXPECT_EQ((*grown)[1], crowded);
  const auto per_master = ShardsPerMaster(*grown, 3);
  EXPECT_EQ(per_master.size(), 3u);
  EXPECT_EQ(per_master.at(master(KeySlot("email"))), 2);
  auto shrunk = ChooseShardTags("email", 2, 3, EvenRanges(3), *three);
  ASSERT_TRUE(shrunk.ok());
  EXPECT_EQ(*shrunk, (std::vector<std::string>{(*three)[0], (*three)[1]}));
}

TEST(ShardTagsTest, TheQueueOfATagIsTheTextBeforeTheHash) {
  EXPECT_EQ(QueueOfTag("email"), "email");
  EXPECT_EQ(QueueOfTag("email#2.z"), "email");
  EXPECT_EQ(QueueOfTag(ShardTag("a.b-c_d", 31, 36)), "a.b-c_d");
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
