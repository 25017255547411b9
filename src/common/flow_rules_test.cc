#include <gtest/gtest.h>

#include <map>

#include "taskq/flow.h"
#include "testing/errors_by_field.h"

namespace taskq {
namespace {

FlowJob Job(std::string ref, std::string parent = "",
            ChildFailurePolicy policy = ChildFailurePolicy::kFail) {
  FlowJob job;
  job.ref = std::move(ref);
  job.parent = std::move(parent);
  job.on_failure = policy;
  job.job.type = "t";
  return job;
}

// field -> rule, for every invalid field reported.
using ::taskq::testing::ErrorsByField;

TEST(FlowRulesTest, ATreeWithOneRootPasses) {
  FlowRequest flow;
  flow.jobs = {Job("report"), Job("a", "report"), Job("b", "report", ChildFailurePolicy::kIgnore),
               Job("a1", "a", ChildFailurePolicy::kContinue)};
  EXPECT_TRUE(ValidateFlow(flow, {}).ok());
}

TEST(FlowRulesTest, EveryBrokenRuleIsNamedAtOnce) {
  FlowRequest flow;
  flow.jobs = {Job("root"),   Job("bad ref", "root"), Job("a", "nobody"), Job("a", "root"),
               Job("b", "b"), Job("second"),          Job("c", "root")};
  flow.jobs[6].job.options.job_id = "mine";
  flow.jobs[6].job.options.unique.emplace();
  flow.jobs[0].on_failure = ChildFailurePolicy::kIgnore;
  const auto errors = ErrorsByField(ValidateFlow(flow, {}));
  EXPECT_EQ(errors.size(), 8u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors.count("jobs[1].ref"), 1u);
  EXPECT_EQ(errors.at("jobs[2].parent"), "names no job of the flow");
  EXPECT_EQ(errors.at("jobs[3].ref"), "repeats the ref of jobs[2]");
  EXPECT_EQ(errors.at("jobs[4].parent"), "names the job itself");
  EXPECT_NE(errors.at("jobs[5].parent").find("jobs[0] is the root already"), std::string::npos);
  EXPECT_EQ(errors.count("jobs[6].job_id"), 1u);
  EXPECT_EQ(errors.count("jobs[6].unique"), 1u);
  EXPECT_EQ(errors.count("jobs[0].on_failure"), 1u);
}

TEST(FlowRulesTest, NoRootOrACycleIsRefused) {
  FlowRequest none;
  none.jobs = {Job("a", "b"), Job("b", "a")};
  EXPECT_EQ(ErrorsByField(ValidateFlow(none, {})).count("jobs"), 1u);
  FlowRequest cycle;
  cycle.jobs = {Job("root"),   Job("a", "b"), Job("b", "c"),
                Job("c", "a"), Job("d", "c"), Job("ok", "root")};
  const auto errors = ErrorsByField(ValidateFlow(cycle, {}));
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);  // one report per cycle
  EXPECT_NE(errors.begin()->second.find("cycle"), std::string::npos);
}

TEST(FlowRulesTest, DepthWidthSizeAndDataHaveLimits) {
  FlowLimits limits;
  limits.max_depth = 3;
  limits.max_width = 2;
  limits.max_jobs = 8;
  limits.max_data_bytes = 100;
  FlowRequest deep = FlowRequest::Chain(std::vector<EnqueueRequest>(5, EnqueueRequest{"t"}));
  // step5 is the root at depth 0; step1 is at depth 4.
  auto errors = ErrorsByField(ValidateFlow(deep, limits));
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors.at("jobs[0].parent").find("depth 4"), std::string::npos);
  limits.max_depth = 4;
  EXPECT_TRUE(ValidateFlow(deep, limits).ok());

  FlowRequest wide;
  wide.jobs = {Job("root"), Job("a", "root"), Job("b", "root"), Job("c", "root")};
  errors = ErrorsByField(ValidateFlow(wide, limits));
  EXPECT_NE(errors.at("jobs[0]").find("has 3 children"), std::string::npos);

  FlowRequest big;
  for (int i = 0; i < 9; ++i) big.jobs.push_back(Job("j" + std::to_string(i), i ? "j0" : ""));
  EXPECT_EQ(ValidateFlow(big, limits).field(), "jobs");

  FlowRequest heavy;
  heavy.jobs = {Job("root")};
  heavy.jobs[0].job.data_json = "{\"x\":\"" + std::string(100, 'x') + "\"}";
  EXPECT_NE(ValidateFlow(heavy, limits).message().find("bytes of data"), std::string::npos);
  EXPECT_EQ(ValidateFlow(FlowRequest{}, limits).field(), "jobs");
}

TEST(FlowRulesTest, AChainRunsItsStepsInOrder) {
  FlowRequest chain = FlowRequest::Chain(std::vector<EnqueueRequest>(3, EnqueueRequest{"t"}));
  ASSERT_EQ(chain.jobs.size(), 3u);
  EXPECT_EQ(chain.jobs[0].ref, "step1");
  EXPECT_EQ(chain.jobs[0].parent, "step2");  // step1 runs first: step2 waits for it
  EXPECT_EQ(chain.jobs[1].parent, "step3");
  EXPECT_EQ(chain.jobs[2].parent, "");  // the last step is the root
  EXPECT_EQ(chain.jobs[1].on_failure, ChildFailurePolicy::kFail);
  EXPECT_EQ(ParseChildFailurePolicy("continue"), ChildFailurePolicy::kContinue);
  EXPECT_EQ(ParseChildFailurePolicy("Fail"), std::nullopt);
  EXPECT_STREQ(ChildFailurePolicyName(ChildFailurePolicy::kIgnore), "ignore");
}

}  // namespace
}  // namespace taskq
