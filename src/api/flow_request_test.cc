#include "api/flow_request.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/errors_by_field.h"

namespace taskq::api {
namespace {

using ::taskq::testing::ErrorsByField;

Result<FlowRequest> Parse(std::string_view body, std::string_view key = "",
                          const JobTypeCheck& check = {}) {
  return ParseFlowRequest(body, key, JobRequestLimits{}, FlowLimits{}, check);
}

TEST(FlowRequestTest, ReadsTheTreeAndEachJobAsPostApiJobsDoes) {
  auto flow = Parse(R"({"flow_id":"nightly-1","jobs":[
      {"ref":"report","type":"export","queue":"reports","data":{"format":"csv"}},
      {"ref":"a","parent":"report","type":"email","data":{"to":"x@example.com"},"priority":-1},
      {"ref":"b","parent":"report","on_failure":"continue","type":"webhook","delay_ms":500}]})");
  ASSERT_TRUE(flow.ok()) << flow.status().ToString();
  EXPECT_EQ(flow->flow_id, "nightly-1");
  ASSERT_EQ(flow->jobs.size(), 3u);
  EXPECT_EQ(flow->jobs[0].job.options.queue, "reports");
  EXPECT_EQ(flow->jobs[0].job.data_json, R"({"format":"csv"})");
  EXPECT_EQ(flow->jobs[1].parent, "report");
  EXPECT_EQ(flow->jobs[1].job.options.priority, -1);
  EXPECT_EQ(flow->jobs[2].on_failure, ChildFailurePolicy::kContinue);
  EXPECT_EQ(flow->jobs[2].job.options.delay.count(), 500);
}

TEST(FlowRequestTest, AChainAndTheIdempotencyKey) {
  auto flow = Parse(R"({"chain":[{"type":"a"},{"type":"b"},{"type":"c"}]})", "order-7");
  ASSERT_TRUE(flow.ok()) << flow.status().ToString();
  EXPECT_EQ(flow->flow_id, "order-7");
  ASSERT_EQ(flow->jobs.size(), 3u);
  EXPECT_EQ(flow->jobs[0].job.type, "a");
  EXPECT_EQ(flow->jobs[0].parent, "step2");
  EXPECT_EQ(Parse(R"({"flow_id":"x","chain":[{"type":"a"}]})", "y").status().field(), "flow_id");
  EXPECT_EQ(Parse(R"({"chain":[{"type":"a","ref":"r"}]})").status().field(), "chain[0].ref");
  // The retention goes with a chain as with a tree; a bad one is named.
  auto kept = Parse(R"({"retention_ms":60000,"chain":[{"type":"a"},{"type":"b"}]})");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->retention, std::chrono::minutes(1));
  EXPECT_EQ(Parse(R"({"jobs":[{"ref":"r","type":"a"}]})")->retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(Parse(R"({"retention_ms":-1,"jobs":[{"ref":"r","type":"a"}]})").status().field(),
            "retention_ms");
  EXPECT_EQ(Parse(R"({"retention_ms":"1s","jobs":[{"ref":"r","type":"a"}]})").status().field(),
            "retention_ms");
  std::string long_chain = R"({"chain":[)";
  for (int i = 0; i < 18; ++i) long_chain += std::string(i ? "," : "") + R"({"type":"a"})";
  EXPECT_EQ(Parse(long_chain + "]}").status().field(), "chain");
}

TEST(FlowRequestTest, EveryInvalidFieldOfEveryJobIsNamed) {
  JobTypeCheck check = [](const EnqueueRequest& r) {
    return r.type == "email" && r.data_json.find("\"to\"") == std::string::npos
               ? InvalidArgument("data.to", "is required")
               : Status::Ok();
  };
  auto flow = Parse(R"({"jobs":[
      {"ref":"root","type":"export","priority":"high"},
      {"ref":"a","parent":"root","on_failure":"retry","type":"email","data":{}},
      {"parent":"root","type":"x","job_id":"mine","colour":"red"}],"extra":1})",
                    "", check);
  ASSERT_FALSE(flow.ok());
  const auto errors = ErrorsByField(flow.status());
  EXPECT_EQ(errors.count("jobs[0].priority"), 1u);
  EXPECT_EQ(errors.at("jobs[1].on_failure"), "must be one of fail, ignore, continue");
  EXPECT_EQ(errors.at("jobs[1].data.to"), "is required");
  EXPECT_EQ(errors.count("jobs[2].ref"), 1u);
  EXPECT_EQ(errors.at("jobs[2].colour"), "unknown field");
  EXPECT_EQ(errors.at("extra"), "unknown field");
  // The tree's own rules once every job reads well.
  auto tree = Parse(R"({"jobs":[{"ref":"a","type":"t"},{"ref":"b","type":"t"}]})");
  EXPECT_EQ(tree.status().field(), "jobs[1].parent");
  auto id = Parse(R"({"jobs":[{"ref":"a","type":"t","job_id":"mine"}]})");
  EXPECT_EQ(id.status().field(), "jobs[0].job_id");
}

TEST(FlowRequestTest, MalformedOrMisshapenBodies) {
  auto malformed = Parse("{nope");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().field(), "");  // 400, not 422
  EXPECT_EQ(Parse("[]").status().field(), "(body)");
  EXPECT_EQ(Parse("{}").status().field(), "jobs");
  EXPECT_EQ(Parse(R"({"jobs":{}})").status().field(), "jobs");
  EXPECT_EQ(Parse(R"({"jobs":[],"chain":[]})").status().field(), "chain");
  EXPECT_EQ(Parse(R"({"jobs":[]})").status().field(), "jobs");
  EXPECT_EQ(Parse(R"({"flow_id":"a.b","jobs":[{"ref":"r","type":"t"}]})").status().field(),
            "flow_id");
  EXPECT_EQ(Parse(R"({"jobs":[7]})").status().field(), "jobs[0]");
  // An empty key is still a named field (an empty field would mean a malformed body).
  EXPECT_EQ(Parse(R"({"":1,"chain":[{"type":"a"}]})").status().field(), "(empty name)");
  EXPECT_EQ(Parse(R"({"chain":[{"type":"a","":1}]})").status().field(), "chain[0].(empty name)");
}

}  // namespace
}  // namespace taskq::api
