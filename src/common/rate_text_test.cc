#include "common/rate_text.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {
using std::chrono::milliseconds;

TEST(RateTextTest, ParsesCountsPerWindowInEveryUnit) {
  const std::vector<std::pair<std::string, RateLimit>> cases = {
      {"100/s", {100, milliseconds(1000)}},       {"100/1s", {100, milliseconds(1000)}},
      {"5/500ms", {5, milliseconds(500)}},        {"1000/1m", {1000, milliseconds(60000)}},
      {"10/2h", {10, milliseconds(7200000)}},     {"1/24h", {1, milliseconds(86400000)}},
      {"1000000000/ms", {1000000000, milliseconds(1)}},
  };
  for (const auto& [text, expected] : cases) {
    auto rate = ParseRate(text, "rate");
    ASSERT_TRUE(rate.ok()) << text << ": " << rate.status().ToString();
    EXPECT_EQ(*rate, expected) << text;
  }
}

TEST(RateTextTest, RejectsMalformedAndOutOfBoundsNamingTheField) {
  for (const char* text : {"", "100", "100/", "/s", "0/s", "-1/s", "1000000001/s", "100/0s",
                           "100/25h", "100/1d", "100/1.5s", "100/s ", " 100/s", "1e3/s",
                           "100/ms1", "100/86400001ms"}) {
    auto rate = ParseRate(text, "queues.email.rate");
    ASSERT_FALSE(rate.ok()) << text;
    EXPECT_EQ(rate.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(rate.status().field(), "queues.email.rate") << text;
  }
}

TEST(RateTextTest, FormatsInTheLargestUnitThatDividesTheWindowAndReadsBack) {
  EXPECT_EQ(FormatRate({100, milliseconds(1000)}), "100/1s");
  EXPECT_EQ(FormatRate({7, milliseconds(1500)}), "7/1500ms");
  EXPECT_EQ(FormatRate({3, milliseconds(120000)}), "3/2m");
  EXPECT_EQ(FormatRate({2, milliseconds(3600000)}), "2/1h");
  for (RateLimit rate : {RateLimit{9, milliseconds(250)}, RateLimit{1, milliseconds(86400000)}}) {
    EXPECT_EQ(*ParseRate(FormatRate(rate), "rate"), rate);
  }
}

}  // namespace
}  // namespace taskq
