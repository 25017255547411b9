#include "common/json_span.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace taskq {
namespace {

TEST(JsonMemberText, FindsTheValueAsWritten) {
  const std::string_view body =
      R"( { "type" : "t", "data" : {"price": 1.5, "big": 123456789012345678901234567890,)"
      R"( "tenth": 0.10000000000000000555, "s": "\u00e9\"}"} , "x": [1, {"data": 2}] } )";
  auto data = JsonMemberText(body, "data");
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(*data, R"({"price": 1.5, "big": 123456789012345678901234567890, )"
                   R"("tenth": 0.10000000000000000555, "s": "\u00e9\"}"})");
  EXPECT_EQ(*JsonMemberText(body, "type"), "\"t\"");
  EXPECT_EQ(*JsonMemberText(body, "x"), "[1, {\"data\": 2}]");
  EXPECT_FALSE(JsonMemberText(body, "missing").has_value());
  EXPECT_FALSE(JsonMemberText("[1]", "data").has_value());
  EXPECT_FALSE(JsonMemberText("{}", "data").has_value());
}

TEST(JsonMemberText, ScalarsNestedBracketsInStringsAndEscapedKeys) {
  const std::string_view body =
      R"({"a":-1.5e+3,"b":"]}{[","c":true,"d\u0061ta":{"k":"v"},"e":null})";
  EXPECT_EQ(*JsonMemberText(body, "a"), "-1.5e+3");
  EXPECT_EQ(*JsonMemberText(body, "b"), "\"]}{[\"");
  EXPECT_EQ(*JsonMemberText(body, "c"), "true");
  EXPECT_EQ(*JsonMemberText(body, "data"), R"({"k":"v"})");
  EXPECT_EQ(*JsonMemberText(body, "e"), "null");
}

// A name given twice: the same member the parser keeps, so the text and the parsed tree agree.
TEST(JsonMemberText, ADuplicateNameGivesTheMemberTheParserKeeps) {
  const std::string_view body = R"({"data":{"n":1},"data":{"n":2}})";
  const boost::json::value parsed = boost::json::parse(body);
  EXPECT_EQ(boost::json::serialize(parsed.at("data")), *JsonMemberText(body, "data"));
}

TEST(JsonElementTexts, SplitsAnArray) {
  const auto elements = JsonElementTexts(R"( [ {"data": {"a": [1, 2]}} , "x,]" ,3.0, [] ] )");
  ASSERT_EQ(elements.size(), 4u);
  EXPECT_EQ(elements[0], R"({"data": {"a": [1, 2]}})");
  EXPECT_EQ(elements[1], "\"x,]\"");
  EXPECT_EQ(elements[2], "3.0");
  EXPECT_EQ(elements[3], "[]");
  EXPECT_TRUE(JsonElementTexts("[]").empty());
  EXPECT_TRUE(JsonElementTexts(" [ ] ").empty());
}

TEST(JsonWithoutWhitespace, DropsOnlyWhitespaceBetweenTokens) {
  EXPECT_EQ(JsonWithoutWhitespace(" {\n\t\"a b\" : [ 1.50 , \"c \\\" d\" ] } "),
            "{\"a b\":[1.50,\"c \\\" d\"]}");
}

// Truncated or invalid text (the functions' callers parse first, but must not read out of
// bounds if they did not).
TEST(JsonSpans, InvalidTextNeverReadsPastTheEnd) {
  for (std::string_view text : {"{\"data\":", "{\"data\":{\"a\":\"", "{\"da", "[1,", "[\"", "{",
                                "[", "\"\\", "{\"data\"  "}) {
    (void)JsonMemberText(text, "data");
    (void)JsonElementTexts(text);
    (void)JsonWithoutWhitespace(text);
  }
}

TEST(JsonMemberTextsTest, EveryMemberInOnePassTheLastOfARepeatedName) {
  const auto members = JsonMemberTexts(R"({"a": 1.50, "d\u0061ta": {"x": [1]}, "a": "z"})");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members.at("a"), "\"z\"");
  EXPECT_EQ(members.at("data"), R"({"x": [1]})");
  EXPECT_TRUE(JsonMemberTexts("[1]").empty());
}

}  // namespace
}  // namespace taskq
