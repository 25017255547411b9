#include "common/text_list.h"

#include <gtest/gtest.h>

#include <string>

namespace taskq {
namespace {

using Items = std::vector<std::string_view>;

TEST(SplitList, ItemsBetweenSeparatorsWithoutEmptyOnes) {
  EXPECT_EQ(SplitList("a,b,c"), (Items{"a", "b", "c"}));
  EXPECT_EQ(SplitList(",a,,b,"), (Items{"a", "b"}));
  EXPECT_EQ(SplitList("one"), (Items{"one"}));
  EXPECT_TRUE(SplitList("").empty());
  EXPECT_TRUE(SplitList(",,").empty());
  EXPECT_EQ(SplitList("x:y", ':'), (Items{"x", "y"}));
}

TEST(JoinList, PutsTheSeparatorBetweenItemsOnly) {
  EXPECT_EQ(JoinList(std::vector<std::string>{"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(JoinList(std::vector<std::string_view>{"one"}), "one");
  EXPECT_EQ(JoinList(std::vector<std::string>{}), "");
  EXPECT_EQ(JoinList(std::vector<std::string>{"", "x"}, "+"), "+x");  // an empty item still counts
}

TEST(StartsWithIgnoringCase, AsciiCaseAside) {
  EXPECT_TRUE(StartsWithIgnoringCase("HTTPS", "https"));
  EXPECT_TRUE(StartsWithIgnoringCase("Bearer abc", "bearer "));
  EXPECT_TRUE(StartsWithIgnoringCase("anything", ""));
  EXPECT_FALSE(StartsWithIgnoringCase("http", "https"));
  EXPECT_FALSE(StartsWithIgnoringCase("xhttps", "https"));
}

}  // namespace
}  // namespace taskq
