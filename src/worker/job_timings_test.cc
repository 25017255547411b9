#include "worker/job_timings.h"

#include <gtest/gtest.h>

#include <map>

namespace taskq::worker {
namespace {

TEST(JobTimingsTest, CountsEachValueInItsBucketAndDrainsOnce) {
  JobTimings timings;
  timings.RecordProcessing("email", 3);       // <= 5
  timings.RecordProcessing("email", 5);       // <= 5 (bounds are inclusive)
  timings.RecordProcessing("email", 6);       // <= 10
  timings.RecordProcessing("email", 999999);  // +Inf
  timings.RecordWait("email", -4);            // clock noise counts as 0
  auto drained = timings.Drain();
  std::map<std::string, int64_t> fields(drained.begin(), drained.end());
  EXPECT_EQ(fields["p:email:5"], 2);
  EXPECT_EQ(fields["p:email:10"], 1);
  EXPECT_EQ(fields["p:email:+Inf"], 1);
  EXPECT_EQ(fields["p:email:count"], 4);
  EXPECT_EQ(fields["p:email:sum_ms"], 3 + 5 + 6 + 999999);
  EXPECT_EQ(fields["w:email:5"], 1);
  EXPECT_EQ(fields["w:email:sum_ms"], 0);
  EXPECT_FALSE(fields.contains("p:email:25"));  // empty buckets are not sent
  EXPECT_TRUE(timings.Drain().empty());         // increments, not totals
}

}  // namespace
}  // namespace taskq::worker
