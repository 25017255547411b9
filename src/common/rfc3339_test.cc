#include "common/rfc3339.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

TEST(Rfc3339Test, ParsesUtcOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T10:00:00Z"), 1795860000000);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T11:00:00+01:00"), 1795860000000);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T05:30:00-04:30"), 1795860000000);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T10:00:00.25Z"), 1795860000250);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28t10:00:00.123000z"), 1795860000123);
  EXPECT_EQ(ParseRfc3339Ms("2024-02-29T00:00:00Z"), 1709164800000);
}

// A run_at is a "no earlier than": a fraction of a millisecond must not start the job early.
TEST(Rfc3339Test, FractionsFinerThanMillisecondsRoundUp) {
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T10:00:00.123456Z"), 1795860000124);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T10:00:00.0000001Z"), 1795860000001);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T10:00:00.999001Z"), 1795860001000);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-28T10:00:00.999000000Z"), 1795860000999);
}

TEST(Rfc3339Test, RejectsWhatIsNotAFullTimestamp) {
  for (const char* bad :
       {"", "2026-11-28", "2026-11-28T10:00Z", "2026-11-28T10:00:00", "2026-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-28T24:00:00Z",
        "2026-11-28T10:00:00.Z", "2026-11-28T10:00:00+1:00", "2026-11-28T10:00:00Zjunk",
        "x026-11-28T10:00:00Z",
        // Outside the years 0000-9999 once in UTC: no formatted text could stand for them.
        "9999-12-31t23:59:59.999999-23:59", "9999-12-31T23:30:00-00:31",
        "0000-01-01T00:00:00+00:01"}) {
    EXPECT_FALSE(ParseRfc3339Ms(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseRfc3339Ms("9999-12-31T23:59:59.999Z"), int64_t{253402300799999});
  EXPECT_EQ(ParseRfc3339Ms("0000-01-01T00:00:00Z"), int64_t{-62167219200000});
}

TEST(Rfc3339Test, FormatsUtcWithMillisecondsAndRoundTrips) {
  EXPECT_EQ(FormatRfc3339Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(1795860000250), "2026-11-28T10:00:00.250Z");
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
  for (int64_t ms : {int64_t{951782400000}, int64_t{4102444799999}, int64_t{1709164800001}}) {
    EXPECT_EQ(ParseRfc3339Ms(FormatRfc3339Ms(ms)), ms);
  }
}

}  // namespace
}  // namespace taskq
