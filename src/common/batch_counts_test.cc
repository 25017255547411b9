#include <gtest/gtest.h>

#include "testing/fake_job_context.h"

namespace taskq {
namespace {

// What batch() gives a job whose children are these. The job's queue is "test"
// (FakeJobContext), so its batch is "test:k1".
std::optional<BatchCounts> BatchOf(std::vector<FlowChild> children) {
  testing::FakeJobContext job("k1.on_complete", "{}");
  job.flow_children = std::move(children);
  return job.batch();
}

TEST(BatchCountsTest, ACallbackReadsItsBatchsCountsFromItsOneChild) {
  std::optional<BatchCounts> counts =
      BatchOf({{"*", "k1.*", true, R"({"total":20,"completed":19,"dead":1})"}});
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->id, "test:k1");
  EXPECT_EQ(counts->total, 20);
  EXPECT_EQ(counts->completed, 19);
  EXPECT_EQ(counts->dead, 1);
}

TEST(BatchCountsTest, OtherJobsHaveNoBatch) {
  EXPECT_FALSE(BatchOf({}));
  // A flow parent's children have refs of their own, never "*".
  EXPECT_FALSE(BatchOf({{"a", "k1.a", true, R"({"total":1,"completed":1,"dead":0})"}}));
  EXPECT_FALSE(BatchOf(
      {{"*", "k1.*", true, R"({"total":1,"completed":1,"dead":0})"}, {"b", "k1.b", true, "null"}}));
}

TEST(BatchCountsTest, CountsThatAreNotWhatTheBatchWritesAreNone) {
  for (const char* json :
       {"", "null", "[]", R"({"total":1,"completed":1})", R"({"total":-1,"completed":0,"dead":0})",
        R"({"total":"1","completed":0,"dead":0})"}) {
    EXPECT_FALSE(BatchOf({{"*", "k1.*", true, json}})) << json;
  }
}

}  // namespace
}  // namespace taskq
