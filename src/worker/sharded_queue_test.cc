#include "worker/sharded_queue.h"

#include <gtest/gtest.h>

namespace taskq::worker {
namespace {

TEST(ShardConcurrencyTest, SplitsEvenlyWithTheRemainderFirstAndAtLeastOneEach) {
  EXPECT_EQ(ShardConcurrency(8, 1, 0), 8);
  EXPECT_EQ(ShardConcurrency(8, 3, 0), 3);
  EXPECT_EQ(ShardConcurrency(8, 3, 1), 3);
  EXPECT_EQ(ShardConcurrency(8, 3, 2), 2);
  for (int32_t concurrency : {3, 10, 128, 1000}) {
    for (int32_t shards : {1, 2, 3, 7, 32}) {
      if (concurrency < shards) continue;
      int32_t total = 0, low = concurrency, high = 0;
      for (int32_t i = 0; i < shards; ++i) {
        const int32_t share = ShardConcurrency(concurrency, shards, i);
        total += share;
        low = std::min(low, share);
        high = std::max(high, share);
      }
      EXPECT_EQ(total, concurrency) << concurrency << "/" << shards;
      EXPECT_LE(high - low, 1) << concurrency << "/" << shards;
    }
  }
  // Fewer slots than shards: every shard still claims, one at a time.
  EXPECT_EQ(ShardConcurrency(2, 5, 4), 1);
}

}  // namespace
}  // namespace taskq::worker
