#include "client/queue_history.h"

#include <gtest/gtest.h>

namespace taskq::client {
namespace {

QueueHistorySample Sample(int64_t start_ms, int64_t enqueued, int64_t completed, int64_t failed,
                          int64_t dead, int64_t waiting, int64_t bucket_ms = 60000) {
  return {start_ms, bucket_ms, enqueued, completed, failed, dead, waiting};
}

TEST(QueueHistoryTest, EachRowCountsWhatHappenedSinceTheBucketBefore) {
  const std::vector<QueueHistorySample> samples = {
      Sample(0, 10, 2, 1, 0, 8), Sample(60000, 25, 12, 3, 1, 10), Sample(120000, 25, 20, 3, 1, 2)};
  auto rows = HistoryRows(samples, 0);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows[0].processed.has_value());  // nothing read before it
  EXPECT_EQ(rows[0].waiting, 8);
  EXPECT_EQ(rows[1].start_ms, 60000);
  EXPECT_EQ(rows[1].enqueued, 15);
  EXPECT_EQ(rows[1].processed, 10);
  EXPECT_EQ(rows[1].failed, 2);
  EXPECT_EQ(rows[1].dead, 1);
  EXPECT_EQ(rows[1].waiting, 10);
  EXPECT_EQ(rows[2].enqueued, 0);
  EXPECT_EQ(rows[2].processed, 8);
  EXPECT_EQ(rows[2].waiting, 2);
}

TEST(QueueHistoryTest, TheSampleBeforeTheWindowServesOnlyTheFirstRow) {
  const std::vector<QueueHistorySample> samples = {Sample(0, 10, 2, 0, 0, 0),
                                                   Sample(60000, 14, 5, 0, 0, 0)};
  auto rows = HistoryRows(samples, 30000);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].start_ms, 60000);
  EXPECT_EQ(rows[0].processed, 3);
}

TEST(QueueHistoryTest, AGapOrACounterThatWentDownLeavesTheCountsUnknown) {
  const std::vector<QueueHistorySample> samples = {
      Sample(0, 10, 2, 0, 0, 0), Sample(180000, 20, 9, 0, 0, 4),  // two buckets missing
      Sample(240000, 3, 1, 0, 0, 1),                               // data removed
      Sample(300000, 5, 2, 0, 0, 0)};
  auto rows = HistoryRows(samples, 0);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_FALSE(rows[1].processed.has_value());
  EXPECT_EQ(rows[1].waiting, 4);
  EXPECT_FALSE(rows[2].enqueued.has_value());
  EXPECT_EQ(rows[3].enqueued, 2);
  EXPECT_EQ(rows[3].processed, 1);
}

TEST(QueueHistoryTest, ShortBucketsFollowEachOther) {
  const std::vector<QueueHistorySample> samples = {Sample(1000, 0, 0, 0, 0, 0, 1000),
                                                   Sample(2000, 1, 1, 0, 0, 0, 1000)};
  auto rows = HistoryRows(samples, 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].processed, 1);
}

TEST(QueueHistoryTest, SumsAddTheKnownCountsBucketByBucket) {
  QueueHistoryRow a{60000, 1, 2, 0, 0, 5};
  QueueHistoryRow b{60000, std::nullopt, std::nullopt, std::nullopt, std::nullopt, 3};
  QueueHistoryRow c{120000, 4, 4, 1, 1, 0};
  QueueHistoryRow d{0, std::nullopt, std::nullopt, std::nullopt, std::nullopt, 7};
  auto sum = SumHistoryRows({{a, c}, {d, b}});
  ASSERT_EQ(sum.size(), 3u);
  EXPECT_EQ(sum[0].start_ms, 0);
  EXPECT_FALSE(sum[0].processed.has_value());
  EXPECT_EQ(sum[0].waiting, 7);
  EXPECT_EQ(sum[1].processed, 2);
  EXPECT_EQ(sum[1].enqueued, 1);
  EXPECT_EQ(sum[1].waiting, 8);
  EXPECT_EQ(sum[2].failed, 1);
}

}  // namespace
}  // namespace taskq::client
