#include "api/limits_request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/field_errors.h"

namespace taskq::api {
namespace {

TEST(LimitsRequestTest, ReadsEveryLimit) {
  auto limits = ParseLimitsRequest(R"({"rate":{"max":10,"window_ms":500},"concurrency":3,
      "group":{"rate":{"max":2},"concurrency":1,"field":"tenant"},"priority_aging_ms":1000,
      "max_length":50})");
  ASSERT_TRUE(limits.ok()) << limits.status().ToString();
  EXPECT_EQ(limits->rate.max, 10);
  EXPECT_EQ(limits->rate.window.count(), 500);
  EXPECT_EQ(limits->concurrency, 3);
  EXPECT_EQ(limits->group_rate.max, 2);
  EXPECT_EQ(limits->group_rate.window.count(), 1000);  // the default window
  EXPECT_EQ(limits->group_concurrency, 1);
  EXPECT_EQ(limits->group_field, "tenant");
  EXPECT_EQ(limits->priority_aging.count(), 1000);
  EXPECT_EQ(limits->max_length, 50);
  auto none = ParseLimitsRequest(R"({"rate":null,"concurrency":null,"group":null})");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, QueueLimits{});
}

TEST(LimitsRequestTest, ErrorsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"rate":{"max":0}})", "rate.max"},
      {R"({"rate":{"window_ms":5}})", "rate.max"},
      {R"({"rate":{"max":1,"window_ms":86400001}})", "rate.window_ms"},
      {R"({"rate":5})", "rate"},
      {R"({"concurrency":0})", "concurrency"},
      {R"({"max_length":"9"})", "max_length"},
      {R"({"priority_aging_ms":86400001})", "priority_aging_ms"},
      {R"({"group":[]})", "group"},
      {R"({"group":{"field":""}})", "group.field"},
      {R"({"group":{"colour":1}})", "group.colour"},
      {R"({"concurency":1})", "concurency"},
      {R"([1])", "(body)"},
  };
  for (const auto& [body, field] : cases) {
    auto limits = ParseLimitsRequest(body);
    ASSERT_FALSE(limits.ok()) << body;
    EXPECT_EQ(limits.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(FieldNames(limits.status()), std::vector<std::string>{field}) << body;
  }
  auto malformed = ParseLimitsRequest("{");
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(malformed.status().field().empty());
}

TEST(LimitsRequestTest, NamesEveryInvalidField) {
  auto limits = ParseLimitsRequest(R"({"rate":{"max":0,"window_ms":0,"extra":1},
      "concurrency":"3","max_length":0,"priority_aging_ms":-1,
      "group":{"rate":{"window_ms":5},"concurrency":0,"field":"","x":1},"typo":1})");
  ASSERT_FALSE(limits.ok());
  EXPECT_EQ(limits.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldNames(limits.status()),
            (std::vector<std::string>{"rate.max", "rate.window_ms", "rate.extra", "concurrency",
                                      "max_length", "priority_aging_ms", "group.rate.max",
                                      "group.concurrency", "group.field", "group.x", "typo"}));
}

}  // namespace
}  // namespace taskq::api
