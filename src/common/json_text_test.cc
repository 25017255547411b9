#include "common/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace taskq {
namespace {

TEST(JsonTextTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
  const std::string tricky = "quote\" back\\ tab\t nl\n bell\x07 unicode é";
  // A real JSON parser reads back exactly the original text.
  EXPECT_EQ(boost::json::parse(JsonString(tricky)).as_string(), tricky);
}

}  // namespace
}  // namespace taskq
