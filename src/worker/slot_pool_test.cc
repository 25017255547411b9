#include "worker/slot_pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace taskq::worker {
namespace {

TEST(SlotPoolTest, OneBusyShardTakesEverySlotWhileTheOthersAreIdle) {
  SlotPool pool(12, 3);
  EXPECT_EQ(pool.Take(0, 0, 12), 12);
  EXPECT_EQ(pool.Take(1, 0, 0), 0);
  EXPECT_EQ(pool.Take(2, 0, 0), 0);
  EXPECT_EQ(pool.held(0), 12);
  // What the claim did not fill goes back.
  pool.Return(0, 5);
  EXPECT_EQ(pool.held(0), 7);
  EXPECT_EQ(pool.Take(1, 0, 5), 5);
}

// Shard 1 finds every slot held by shard 0: it waits, is woken as shard 0's jobs finish, and
// from then on shard 0 gets no slot until it is down to its share; both end at half.
TEST(SlotPoolTest, AWaitingShardIsWokenAndBothConvergeToTheirShares) {
  SlotPool pool(8, 2);
  int woken = 0;
  pool.SetWaker(1, [&] { ++woken; });
  EXPECT_EQ(pool.Take(0, 0, 8), 8);
  EXPECT_EQ(pool.Take(1, 0, 8), 0);
  EXPECT_EQ(woken, 0);
  int32_t busy0 = 8, busy1 = 0;
  for (int round = 0; round < 8; ++round) {
    // One of shard 0's jobs finished: it asks again for the slot it freed.
    --busy0;
    busy0 += pool.Take(0, busy0, 8 - busy0);
    EXPECT_GT(woken, round) << round;
    busy1 += pool.Take(1, busy1, 8 - busy1);
    EXPECT_LE(busy0 + busy1, 8);
  }
  EXPECT_EQ(busy0, 4);
  EXPECT_EQ(busy1, 4);
}

TEST(SlotPoolTest, NoShardHoldsMoreThanItsShareWhileAnotherWaits) {
  SlotPool pool(9, 3);
  EXPECT_EQ(pool.Take(0, 0, 9), 9);
  EXPECT_EQ(pool.Take(1, 0, 9), 0);  // waits
  EXPECT_EQ(pool.Take(2, 0, 9), 0);  // waits
  std::vector<int32_t> busy = {9, 0, 0};
  // Shard 0's jobs finish one by one; every freed slot goes to a waiting shard below its share.
  for (int i = 0; i < 6; ++i) {
    --busy[0];
    busy[0] += pool.Take(0, busy[0], 9 - busy[0]);
    for (int s : {1, 2}) busy[s] += pool.Take(s, busy[s], 9 - busy[s]);
  }
  EXPECT_EQ(busy, (std::vector<int32_t>{3, 3, 3}));
}

TEST(SlotPoolTest, AShardThatStopsWaitingLetsTheOthersTakeMoreThanAShare) {
  SlotPool pool(6, 2);
  int woken0 = 0;
  pool.SetWaker(0, [&] { ++woken0; });
  EXPECT_EQ(pool.Take(1, 0, 6), 6);
  EXPECT_EQ(pool.Take(0, 0, 6), 0);  // waits
  EXPECT_EQ(pool.Take(1, 3, 3), 0);  // three finished; shard 0 waits below its share
  EXPECT_EQ(woken0, 1);
  EXPECT_EQ(pool.Take(0, 0, 6), 3);
  EXPECT_EQ(pool.Take(1, 0, 0), 0);  // shard 1 drained and wants nothing more
  EXPECT_EQ(woken0, 2);              // shard 0 may now take what shard 1 left
  EXPECT_EQ(pool.Take(0, 3, 3), 3);
}

TEST(SlotPoolTest, FewerSlotsThanShardsStillServesEveryShardInTurn) {
  SlotPool pool(2, 3);
  EXPECT_EQ(pool.Take(0, 0, 5), 2);
  EXPECT_EQ(pool.Take(1, 0, 5), 0);
  EXPECT_EQ(pool.Take(2, 0, 5), 0);
  EXPECT_EQ(pool.Take(0, 1, 4), 0);  // a slot freed goes to a waiting shard, not back to 0
  EXPECT_EQ(pool.Take(1, 0, 5), 1);
  EXPECT_EQ(pool.Take(0, 0, 5), 0);  // 0 holds its share of 1; 2 waits with none
  EXPECT_EQ(pool.Take(2, 0, 5), 1);
}

}  // namespace
}  // namespace taskq::worker
