#include "common/json_fields.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace taskq {
namespace {

boost::json::object Object(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(JsonFieldsTest, AbsentAndNullAreTheSameForEveryOptionalField) {
  for (const char* text : {R"({})", R"({"f":null})"}) {
    const boost::json::object o = Object(text);
    EXPECT_FALSE(OptionalString(o, "f", "data.f", 10)->has_value()) << text;
    EXPECT_FALSE(OptionalInteger(o, "f", "data.f", 0, 9)->has_value()) << text;
    EXPECT_TRUE(*OptionalBool(o, "f", "data.f", true)) << text;
    Result<std::string> required = RequiredString(o, "f", "data.f", 10);
    ASSERT_FALSE(required.ok());
    EXPECT_EQ(required.status().field(), "data.f");
    EXPECT_EQ(required.status().message(), "is required");
  }
}

TEST(JsonFieldsTest, ErrorsNameTheFieldAndTheRule) {
  const boost::json::object o = Object(R"({"s":"abcdef","n":12,"x":1.5,"b":"yes"})");
  Result<std::optional<std::string>> long_string = OptionalString(o, "s", "data.s", 3);
  ASSERT_FALSE(long_string.ok());
  EXPECT_EQ(long_string.status().message(), "is longer than 3 bytes");
  Result<std::optional<int64_t>> big = OptionalInteger(o, "n", "data.n", 1, 10);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().field(), "data.n");
  EXPECT_EQ(big.status().message(), "must be an integer in [1, 10]");
  EXPECT_EQ(OptionalInteger(o, "x", "data.x", 0, 9).status().message(), "must be an integer");
  EXPECT_EQ(OptionalBool(o, "b", "data.b", false).status().message(), "must be true or false");
  EXPECT_EQ(OptionalString(o, "n", "data.n", 9).status().message(), "must be a string");
}

TEST(JsonFieldsTest, ReadsValuesThatKeepTheRules) {
  const boost::json::object o = Object(R"({"s":"abc","n":1e3,"b":false})");
  EXPECT_EQ(*RequiredString(o, "s", "data.s", 3), "abc");
  EXPECT_EQ(**OptionalInteger(o, "n", "data.n", 0, 1000), 1000);  // 1e3 is an integer
  EXPECT_FALSE(*OptionalBool(o, "b", "data.b", true));
}

TEST(JsonFieldsTest, UnknownKeysAndNonObjectsAreRefused) {
  Status unknown = RejectUnknownKeys(Object(R"({"a":1,"typo":2})"), {"a"}, "data");
  EXPECT_EQ(unknown.field(), "data.typo");
  EXPECT_TRUE(RejectUnknownKeys(Object(R"({"a":1})"), {"a", "b"}, "data").ok());
  Status two = RejectUnknownKeys(Object(R"({"x":1,"a":1,"y":2})"), {"a"}, "data");
  EXPECT_EQ(two.field(), "data.x");
  ASSERT_EQ(two.more_fields().size(), 1u);
  EXPECT_EQ(two.more_fields()[0].field, "data.y");
  EXPECT_EQ(ParseJsonObject("[1]", "data").status().message(), "must be a JSON object");
  EXPECT_EQ(ParseJsonObject("{", "data").status().field(), "data");
  EXPECT_TRUE(ParseJsonObject(R"({"a":1})", "data").ok());
}

}  // namespace
}  // namespace taskq
