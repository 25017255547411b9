#include "broker/token_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace taskq::broker {
namespace {

TEST(TokenTextTest, IsBase36WithoutLeadingZeros) {
  EXPECT_EQ(TokenText(0), "0");
  EXPECT_EQ(TokenText(35), "z");
  EXPECT_EQ(TokenText(36), "10");
  EXPECT_EQ(TokenText(259), "77");
  // Redis' clock in microseconds in 2026: 10 characters where decimal takes 16.
  EXPECT_EQ(TokenText(1765000000000000), "hdn1t11tds");
  EXPECT_EQ(TokenText(1765000000000000).size(), 10u);
}

TEST(TokenTextTest, ParsesWhatItWritesAndOrderFollowsTheValue) {
  for (int64_t token : {int64_t{0}, int64_t{1}, int64_t{35}, int64_t{36}, int64_t{1234567},
                        int64_t{1765000000000000}, int64_t{1765000000000001},
                        std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(ParseTokenText(TokenText(token)), token) << token;
  }
}

TEST(TokenTextTest, RefusesWhatNoTokenWritesAs) {
  EXPECT_EQ(ParseTokenText(""), std::nullopt);
  EXPECT_EQ(ParseTokenText("A1"), std::nullopt);   // upper case
  EXPECT_EQ(ParseTokenText("-1"), std::nullopt);
  EXPECT_EQ(ParseTokenText("1 "), std::nullopt);
  EXPECT_EQ(ParseTokenText("1y2p0ij32e8e8"), std::nullopt);  // 2^63: past int64
  EXPECT_EQ(ParseTokenText("zzzzzzzzzzzzzz"), std::nullopt);
}

}  // namespace
}  // namespace taskq::broker
