#include "api/batch_request.h"

#include <gtest/gtest.h>

#include "testing/errors_by_field.h"

namespace taskq::api {
namespace {

using ::taskq::testing::ErrorsByField;

Result<BatchRequest> Parse(std::string_view body, std::string_view key = "",
                           BatchLimits limits = {}) {
  return ParseBatchRequest(body, key, JobRequestLimits{}, limits, JobTypeCheck());
}

Result<BatchAddition> ParseAddition(std::string_view body, std::string_view key = "") {
  return ParseBatchAddition(body, key, "mail", JobRequestLimits{}, BatchLimits{}, JobTypeCheck());
}

std::vector<std::string> Fields(const Status& s) {
  std::vector<std::string> out;
  for (const auto& [field, rule] : ErrorsByField(s)) out.push_back(field);
  return out;
}

TEST(BatchRequestTest, ReadsTheJobsTheCallbacksAndTheOptions) {
  auto batch = Parse(R"({"batch_id":"b-1","open":true,"retention_ms":3600000,
      "jobs":[{"type":"email","queue":"mail","data":{"n":1.50}},{"type":"mail","priority":4}],
      "on_complete":{"type":"summary","queue":"mail","data":{"x":1}},
      "on_success":{"type":"mail"}})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->batch_id, "b-1");
  EXPECT_TRUE(batch->open);
  EXPECT_EQ(batch->retention, std::chrono::hours(1));
  ASSERT_EQ(batch->jobs.size(), 2u);
  EXPECT_EQ(batch->jobs[0].data_json, R"({"n":1.50})");  // as written
  EXPECT_EQ(batch->jobs[1].options.priority, 4);
  ASSERT_TRUE(batch->on_complete);
  EXPECT_EQ(batch->on_complete->type, "summary");
  EXPECT_EQ(batch->on_complete->data_json, R"({"x":1})");
  ASSERT_TRUE(batch->on_success);
  EXPECT_FALSE(Parse(R"({"jobs":[{"type":"a"}]})")->open);
}

TEST(BatchRequestTest, TheIdempotencyKeyNamesTheBatchOrTheAddition) {
  EXPECT_EQ(Parse(R"({"jobs":[{"type":"a"}]})", "k-7")->batch_id, "k-7");
  EXPECT_EQ(Fields(Parse(R"({"batch_id":"x","jobs":[{"type":"a"}]})", "y").status()),
            (std::vector<std::string>{"batch_id"}));
  EXPECT_EQ(Fields(Parse(R"({"jobs":[{"type":"a"}]})", "a.b").status()),
            (std::vector<std::string>{"Idempotency-Key"}));
  EXPECT_EQ(ParseAddition(R"({"jobs":[{"type":"mail"}]})", "add-1")->addition_id, "add-1");
  // An addition id is at most 32 long: it starts its members' refs.
  EXPECT_EQ(Fields(ParseAddition(R"({"jobs":[{"type":"mail"}]})", std::string(33, 'a')).status()),
            (std::vector<std::string>{"Idempotency-Key"}));
}

TEST(BatchRequestTest, EveryInvalidFieldIsNamedAtOnce) {
  auto batch = Parse(R"({"batch_id":"a.b","open":1,"retention_ms":-1,"extra":0,
      "jobs":[{"type":"a"},{"type":"a","priority":"high"},{"data":{}}],
      "on_complete":{"type":"a","bogus":1}})");
  EXPECT_EQ(Fields(batch.status()),
            (std::vector<std::string>{"batch_id", "extra", "jobs[1].priority", "jobs[2].type",
                                      "on_complete.bogus", "open", "retention_ms"}));
  // Once every job reads well, the batch's own rules.
  batch = Parse(R"({"jobs":[{"type":"a"},{"type":"b","job_id":"x"}],
      "on_success":{"type":"a","unique":true}})");
  EXPECT_EQ(Fields(batch.status()),
            (std::vector<std::string>{"jobs[1].job_id", "jobs[1].type", "on_success.unique"}));
}

TEST(BatchRequestTest, JobsAreRequiredUnlessTheBatchIsOpen) {
  EXPECT_EQ(Fields(Parse(R"({})").status()), (std::vector<std::string>{"jobs"}));
  EXPECT_EQ(Fields(Parse(R"({"jobs":[]})").status()), (std::vector<std::string>{"jobs"}));
  EXPECT_EQ(Fields(Parse(R"({"jobs":{}})").status()), (std::vector<std::string>{"jobs"}));
  auto open = Parse(R"({"open":true,"on_complete":{"type":"a"}})");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_TRUE(open->jobs.empty());
}

TEST(BatchRequestTest, AListOverTheLimitIsRefusedBeforeItsJobsAreRead) {
  BatchLimits limits;
  limits.max_jobs = 2;
  auto batch = Parse(R"({"jobs":[{"type":"a"},{"bad":1},{"type":"a"}]})", "", limits);
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(batch.status()), (std::vector<std::string>{"jobs"}));
  EXPECT_NE(batch.status().message().find("holds 3 jobs; a batch request holds at most 2"),
            std::string::npos)
      << batch.status().message();
}

TEST(BatchRequestTest, AnAdditionsJobsGoToTheBatchsQueue) {
  auto addition = ParseAddition(R"({"addition_id":"a1","jobs":[{"type":"mail"},
      {"type":"email","queue":"mail"},{"type":"email"}]})");
  EXPECT_EQ(Fields(addition.status()), (std::vector<std::string>{"jobs[2].type"}));
  EXPECT_EQ(Fields(ParseAddition(R"({"jobs":[{"type":"mail"}],"open":true})").status()),
            (std::vector<std::string>{"open"}));  // a creation's field
  EXPECT_EQ(Fields(ParseAddition(R"({"jobs":[]})").status()), (std::vector<std::string>{"jobs"}));
  EXPECT_EQ(Fields(ParseAddition(R"({})").status()), (std::vector<std::string>{"jobs"}));
  EXPECT_EQ(ParseAddition("[1]").status().field(), "(body)");
  EXPECT_EQ(ParseAddition("{").status().field(), "");  // malformed: 400
}

}  // namespace
}  // namespace taskq::api
