#include "common/share_targets.h"

#include <gtest/gtest.h>

#include <numeric>

namespace taskq {
namespace {

using Shares = std::vector<int64_t>;

TEST(ShareTargetsTest, OneBusyShardTakesAllButOneSlotPerOtherShard) {
  EXPECT_EQ(ShareTargets(6, Shares{40, 0, 0}), (Shares{4, 1, 1}));
  EXPECT_EQ(ShareTargets(6, Shares{0, 0, 40}), (Shares{1, 1, 4}));
}

TEST(ShareTargetsTest, ADemandThatFitsIsMetAndTheRestSpreadEvenly) {
  EXPECT_EQ(ShareTargets(10, Shares{3, 0, 1}), (Shares{5, 3, 2}));  // needs 2,0,0; spare 5
  EXPECT_EQ(ShareTargets(6, Shares{0, 0, 0}), (Shares{2, 2, 2}));
}

TEST(ShareTargetsTest, ADemandBeyondTheTotalIsSharedInProportion) {
  EXPECT_EQ(ShareTargets(10, Shares{31, 11, 1}), (Shares{6, 3, 1}));  // needs 30,10,0 of 7
  EXPECT_EQ(ShareTargets(5, Shares{3, 3}), (Shares{3, 2}));           // a tie: the lower index
}

TEST(ShareTargetsTest, FloorsAreKeptAndOnlyTheRestFollowsTheWork) {
  // 3 run on shard 2: a new total of 7 keeps them; the other 4 go by need beyond the floors.
  EXPECT_EQ(ShareTargets(7, Shares{0, 10, 3}, Shares{1, 1, 3}), (Shares{1, 3, 3}));
  EXPECT_EQ(ShareTargets(7, Shares{0, 0, 3}, Shares{1, 1, 3}), (Shares{2, 2, 3}));
  // Floors above the total: the floors as they are (the caller splits otherwise).
  EXPECT_EQ(ShareTargets(4, Shares{2, 2, 2}, Shares{2, 2, 2}), (Shares{2, 2, 2}));
}

TEST(ShareTargetsTest, TargetsAlwaysAddUpToTheTotalAndKeepOneEach) {
  for (int64_t total = 3; total < 40; ++total) {
    for (int64_t a = 0; a < 30; a += 3) {
      for (int64_t b = 0; b < 30; b += 7) {
        const Shares targets = ShareTargets(total, Shares{a, b, 1});
        EXPECT_EQ(std::accumulate(targets.begin(), targets.end(), int64_t{0}), total);
        for (int64_t t : targets) EXPECT_GE(t, 1);
      }
    }
  }
}

}  // namespace
}  // namespace taskq
