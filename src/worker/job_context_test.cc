#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "taskq/handler.h"
#include "testing/fake_job_context.h"

namespace taskq {
namespace {

using testing::FakeJobContext;

TEST(PreviousResultTest, IsTheResultOfTheOneCompletedChild) {
  FakeJobContext step("k.step2", "{}");
  step.flow_children = {{"step1", "k.step1", true, R"({"rows":3})"}};
  EXPECT_EQ(step.previous_result(), std::optional<std::string>(R"({"rows":3})"));
}

TEST(PreviousResultTest, IsNullTextWhenThePreviousStepReturnedNoResult) {
  FakeJobContext step("k.step2", "{}");
  step.flow_children = {{"step1", "k.step1", true, "null"}};
  EXPECT_EQ(step.previous_result(), std::optional<std::string>("null"));
}

TEST(PreviousResultTest, IsNulloptForTheFirstStepAndJobsOutsideFlows) {
  FakeJobContext first("k.step1", "{}");
  EXPECT_EQ(first.previous_result(), std::nullopt);
}

TEST(PreviousResultTest, IsNulloptWhenTheChildDied) {
  // A step retried with an override runs after its child died: there is no result to pass on,
  // and the error must not be taken for one.
  FakeJobContext step("k.step2", "{}");
  step.flow_children = {{"step1", "k.step1", false, R"("disk full")"}};
  EXPECT_EQ(step.previous_result(), std::nullopt);
}

TEST(PreviousResultTest, IsNulloptForAParentOfSeveralChildren) {
  FakeJobContext parent("k.report", "{}");
  parent.flow_children = {{"a", "k.a", true, "1"}, {"b", "k.b", true, "2"}};
  EXPECT_EQ(parent.previous_result(), std::nullopt);
}

}  // namespace
}  // namespace taskq
