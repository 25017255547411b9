// Tests of CronExpression: each field's syntax, names and ranges, the day-of-month/day-of-week
// rule, fire times across DST changes and month ends, and the cases fuzzing found. Over 600
// lines: one parser's cases, beside it in one file.
#include "scheduler/cron_expression.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/rfc3339.h"

// Expected times were worked out by hand from the 2026 calendar (1 January is a Thursday; the
// first of each month: Feb Sun, Mar Sun, Apr Wed, May Fri, Jun Mon, Jul Wed, Aug Sat, Sep Tue,
// Oct Thu, Nov Sun, Dec Tue) and the DST rules: Europe/Berlin is UTC+1 (CET) and UTC+2 (CEST),
// switching at 01:00 UTC on 2026-03-29 and 2026-10-25; America/New_York is UTC-5 (EST) and UTC-4
// (EDT), switching at 07:00 UTC on 2026-03-08 and 06:00 UTC on 2026-11-01.

namespace taskq::schedule {
namespace {

Millis At(std::string_view rfc3339) {
  const std::optional<int64_t> ms = ParseRfc3339Ms(rfc3339);
  EXPECT_TRUE(ms.has_value()) << rfc3339;
  return Millis(std::chrono::milliseconds(ms.value_or(0)));
}

std::string Show(std::optional<Millis> time) {
  return time ? FormatRfc3339Ms(time->time_since_epoch().count()) : "never";
}

const date::time_zone* Zone(std::string_view name) {
  Result<const date::time_zone*> zone = FindZone(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return zone.ok() ? *zone : nullptr;
}

// The fire times after `after`, `count` of them (fewer if it stops firing).
std::vector<std::string> Fires(std::string_view text, std::string_view after, int count,
                               const date::time_zone* zone = nullptr) {
  Result<CronExpression> expr = CronExpression::Parse(text);
  EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
  std::vector<std::string> fires;
  if (!expr.ok()) return fires;
  Millis at = At(after);
  for (int i = 0; i < count; ++i) {
    const std::optional<Millis> next = expr->Next(at, zone, Millis{});
    if (!next) break;
    fires.push_back(Show(next));
    at = *next;
  }
  return fires;
}

std::string NextAfter(std::string_view text, std::string_view after,
                      const date::time_zone* zone = nullptr) {
  Result<CronExpression> expr = CronExpression::Parse(text);
  EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
  return expr.ok() ? Show(expr->Next(At(after), zone, Millis{})) : "invalid";
}

std::vector<std::string> Times(std::initializer_list<std::string_view> rfc3339) {
  std::vector<std::string> out;
  for (std::string_view t : rfc3339) out.push_back(Show(At(t)));
  return out;
}

struct NextCase {
  const char* text;
  const char* after;
  const char* expected;  // nullptr: never
};

void ExpectNext(const std::vector<NextCase>& cases, const date::time_zone* zone) {
  for (const NextCase& c : cases) {
    EXPECT_EQ(NextAfter(c.text, c.after, zone), c.expected ? Show(At(c.expected)) : "never")
        << "'" << c.text << "' after " << c.after;
  }
}

TEST(CronNextTest, UtcTable) {
  ExpectNext(
      {
          // Strictly after, to the next whole minute.
          {"* * * * *", "2026-03-10T10:15:30.500Z", "2026-03-10T10:16:00Z"},
          {"* * * * *", "2026-03-10T10:15:00Z", "2026-03-10T10:16:00Z"},
          {"0 * * * *", "2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z"},
          {"*/15 * * * *", "2026-03-10T10:07:00Z", "2026-03-10T10:15:00Z"},
          {"*/15 * * * *", "2026-03-10T23:50:00Z", "2026-03-11T00:00:00Z"},
          {"30 2 * * *", "2026-03-10T03:00:00Z", "2026-03-11T02:30:00Z"},
          {"5-20/5 * * * *", "2026-03-10T10:20:00Z", "2026-03-10T11:05:00Z"},
          {"10/20 * * * *", "2026-03-10T10:31:00Z", "2026-03-10T10:50:00Z"},
          {"0 8-10,14 * * *", "2026-03-10T10:00:00Z", "2026-03-10T14:00:00Z"},
          {"0 0 1 * *", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"},
          // Year rollover.
          {"0 0 1 1 *", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
          {"59 23 31 12 *", "2026-06-01T00:00:00Z", "2026-12-31T23:59:00Z"},
          // Weekdays: Friday 2 January -> Monday 5 January.
          {"0 9 * * MON-FRI", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z"},
          {"0 9 * * 1-5", "2026-01-02T08:59:59Z", "2026-01-02T09:00:00Z"},
          // Sunday as 0, 7 and SUN.
          {"0 0 * * 0", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
          {"0 0 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
          {"0 0 * * sun", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
          {"0 0 * * 5-7", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"},
          // Month names, any case, in lists and ranges.
          {"0 12 * JAN,jul *", "2026-02-01T00:00:00Z", "2026-07-01T12:00:00Z"},
          {"0 12 1 Oct-Dec *", "2026-02-01T00:00:00Z", "2026-10-01T12:00:00Z"},
          {"0 12 1 mar/4 *", "2026-03-01T12:00:00Z", "2026-07-01T12:00:00Z"},
      },
      nullptr);
}

TEST(CronNextTest, EndOfMonthAndLeapDay) {
  ExpectNext(
      {
          // Day 31 skips the 30-day months (April, June, September) and February.
          {"0 0 31 * *", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z"},
          {"0 0 31 * *", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"},
          {"0 0 31 * *", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z"},
          {"0 0 30 * *", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z"},
          // L is the month's own last day.
          {"0 0 L * *", "2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z"},
          {"0 0 L * *", "2028-02-01T00:00:00Z", "2028-02-29T00:00:00Z"},
          {"0 0 L * *", "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"},
          {"0 0 1,L * *", "2026-04-01T00:00:00Z", "2026-04-30T00:00:00Z"},
          // 29 February: the next after 2026 is 2028; 2100 is not a leap year, so 2096 -> 2104.
          {"0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
          {"0 0 29 2 *", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"},
          {"0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
          // Never: no February 30th, no 31st in the 30-day months, no nearest weekday to a 30th
          // of February.
          {"0 0 30 2 *", "2026-01-01T00:00:00Z", nullptr},
          {"0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z", nullptr},
          {"0 0 30W 2 *", "2026-01-01T00:00:00Z", nullptr},
      },
      nullptr);
}

TEST(CronNextTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  ExpectNext(
      {
          // Both restricted: the 13th OR any Friday.
          {"0 0 13 * FRI", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
          {"0 0 13 * FRI", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"},
          {"0 0 13 * FRI", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"},
          // 29 February OR any Monday of February: Monday 2 February 2026.
          {"0 0 29 2 1", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z"},
          // A field starting with * (or ?) is unrestricted for this rule, even with a step: then
          // both must match: odd days that are Mondays (5 and 19 January).
          {"0 0 */2 * MON", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"},
          {"0 0 */2 * MON", "2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z"},
          // Written as a range it is restricted: odd days OR Mondays.
          {"0 0 1-31/2 * MON", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"},
          {"0 0 ? * MON", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"},
          {"0 0 13 * ?", "2026-01-01T00:00:00Z", "2026-01-13T00:00:00Z"},
      },
      nullptr);
}

TEST(CronNextTest, LastWeekdayNearestWeekdayAndNthWeekday) {
  ExpectNext(
      {
          // LW: 31 January 2026 is a Saturday -> Friday 30; 31 May a Sunday -> Friday 29.
          {"0 0 LW * *", "2026-01-01T00:00:00Z", "2026-01-30T00:00:00Z"},
          {"0 0 LW * *", "2026-02-01T00:00:00Z", "2026-02-27T00:00:00Z"},
          {"0 0 LW * *", "2026-05-01T00:00:00Z", "2026-05-29T00:00:00Z"},
          {"0 0 LW * *", "2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z"},
          // nW: 15 March is a Sunday -> Monday 16; 15 August a Saturday -> Friday 14.
          {"0 0 15W * *", "2026-03-01T00:00:00Z", "2026-03-16T00:00:00Z"},
          {"0 0 15W * *", "2026-08-01T00:00:00Z", "2026-08-14T00:00:00Z"},
          {"0 0 15W * *", "2026-04-01T00:00:00Z", "2026-04-15T00:00:00Z"},
          // Never into another month: 1 August (Saturday) -> Monday 3; 31 May (Sunday) -> Friday
          // 29; 31 January (Saturday) -> Friday 30; no 31st in February -> 31 March (Tuesday).
          {"0 0 1W * *", "2026-07-31T00:00:00Z", "2026-08-03T00:00:00Z"},
          {"0 0 31W * *", "2026-05-01T00:00:00Z", "2026-05-29T00:00:00Z"},
          {"0 0 31w * *", "2026-01-01T00:00:00Z", "2026-01-30T00:00:00Z"},
          {"0 0 31W * *", "2026-02-01T00:00:00Z", "2026-03-31T00:00:00Z"},
          // nL: the last Friday of January 2026 is the 30th, of February the 27th.
          {"0 0 * * 5L", "2026-01-01T00:00:00Z", "2026-01-30T00:00:00Z"},
          {"0 0 * * FRIL", "2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"},
          {"0 0 * * 7L", "2026-03-01T00:00:00Z", "2026-03-29T00:00:00Z"},
          // n#k: first Monday; fifth Sunday (none in January or February 2026; 29 March).
          {"0 0 * * 1#1", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"},
          {"0 0 * * MON#1", "2026-01-05T00:00:00Z", "2026-02-02T00:00:00Z"},
          {"0 0 * * 0#5", "2026-01-01T00:00:00Z", "2026-03-29T00:00:00Z"},
          {"0 0 * * 2#2,4#4", "2026-01-01T00:00:00Z", "2026-01-13T00:00:00Z"},
          {"0 0 * * 2#2,4#4", "2026-01-13T00:00:00Z", "2026-01-22T00:00:00Z"},
          // A fifth Monday in February needs a leap year starting February on a Monday: 29
          // February is a Monday in 2016 and next in 2044 (it moves 5 weekdays per 4 years).
          {"0 0 * 2 1#5", "2026-01-01T00:00:00Z", "2044-02-29T00:00:00Z"},
          // With both day fields restricted these join the OR rule: the 1st or the last Friday.
          {"0 0 1 * 5L", "2026-01-02T00:00:00Z", "2026-01-30T00:00:00Z"},
      },
      nullptr);
}

TEST(CronNextTest, SecondsField) {
  ExpectNext(
      {
          {"*/10 * * * * *", "2026-03-10T10:00:05Z", "2026-03-10T10:00:10Z"},
          {"*/10 * * * * *", "2026-03-10T10:00:50Z", "2026-03-10T10:01:00Z"},
          {"15,45 * * * * *", "2026-03-10T10:00:45.001Z", "2026-03-10T10:01:15Z"},
          {"30 0 0 1 1 *", "2026-01-01T00:00:30Z", "2027-01-01T00:00:30Z"},
          {"0 0 12 * * MON", "2026-01-01T00:00:00Z", "2026-01-05T12:00:00Z"},
      },
      nullptr);
  Result<CronExpression> six = CronExpression::Parse("0 * * * * *");
  ASSERT_TRUE(six.ok());
  EXPECT_TRUE(six->has_seconds());
  Result<CronExpression> five = CronExpression::Parse("* * * * *");
  ASSERT_TRUE(five.ok());
  EXPECT_FALSE(five->has_seconds());
  // Five fields fire at second 0 only.
  EXPECT_EQ(NextAfter("* * * * *", "2026-03-10T10:00:00.999Z"), Show(At("2026-03-10T10:01:00Z")));
}

TEST(CronNextTest, Macros) {
  ExpectNext(
      {
          {"@yearly", "2026-03-10T10:00:00Z", "2027-01-01T00:00:00Z"},
          {"@annually", "2026-03-10T10:00:00Z", "2027-01-01T00:00:00Z"},
          {"@monthly", "2026-03-10T10:00:00Z", "2026-04-01T00:00:00Z"},
          {"@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
          {"@daily", "2026-03-10T10:00:00Z", "2026-03-11T00:00:00Z"},
          {"@midnight", "2026-03-10T10:00:00Z", "2026-03-11T00:00:00Z"},
          {"@hourly", "2026-03-10T10:00:00Z", "2026-03-10T11:00:00Z"},
          {"@HOURLY", "2026-03-10T10:59:59Z", "2026-03-10T11:00:00Z"},
      },
      nullptr);
  Result<CronExpression> daily = CronExpression::Parse("  @daily\t");
  ASSERT_TRUE(daily.ok());
  EXPECT_EQ(daily->text(), "@daily");
  EXPECT_FALSE(daily->has_seconds());
}

TEST(CronNextTest, EveryFollowsTheAnchorsGrid) {
  struct Case {
    const char* text;
    const char* anchor;
    const char* after;
    const char* expected;
  };
  const Case cases[] = {
      {"@every 1h30m", "2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"},
      {"@every 1h30m", "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z", "2026-01-01T04:30:00Z"},
      // 10 s + k * 90 s: ..., 00:04:40, 00:06:10.
      {"@every 90s", "2026-01-01T00:00:10Z", "2026-01-01T00:05:00Z", "2026-01-01T00:06:10Z"},
      {"@every 1m30s", "2026-01-01T00:00:10Z", "2026-01-01T00:04:40Z", "2026-01-01T00:06:10Z"},
      {"@every 1s500ms", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z",
       "2026-01-01T00:00:01.500Z"},
      {"@every 1d", "2026-01-01T06:00:00Z", "2026-03-10T10:00:00Z", "2026-03-11T06:00:00Z"},
      {"@every 366d", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2027-01-02T00:00:00Z"},
      // The anchor sets the phase, not a start: the grid extends before it.
      {"@every 1h", "2026-01-01T10:00:00Z", "2026-01-01T07:30:00Z", "2026-01-01T08:00:00Z"},
      {"@every 1h", "2026-01-01T10:00:00Z", "2026-01-01T09:59:59.999Z", "2026-01-01T10:00:00Z"},
  };
  const date::time_zone* berlin = Zone("Europe/Berlin");
  for (const Case& c : cases) {
    Result<CronExpression> expr = CronExpression::Parse(c.text);
    ASSERT_TRUE(expr.ok()) << c.text << ": " << expr.status().ToString();
    EXPECT_TRUE(expr->has_seconds()) << c.text;
    EXPECT_EQ(Show(expr->Next(At(c.after), nullptr, At(c.anchor))), Show(At(c.expected)))
        << c.text << " after " << c.after;
    // Intervals are real time: the zone plays no part.
    EXPECT_EQ(Show(expr->Next(At(c.after), berlin, At(c.anchor))), Show(At(c.expected)))
        << c.text << " after " << c.after;
  }
}

TEST(CronDstTest, BerlinSpringForwardMovesFixedTimesOutOfTheGap) {
  const date::time_zone* berlin = Zone("Europe/Berlin");
  // 02:30 CET the day before; on 29 March 02:30 does not exist and fires at 03:00 CEST (01:00 UTC);
  // then 02:30 CEST.
  EXPECT_EQ(Fires("30 2 * * *", "2026-03-27T12:00:00Z", 3, berlin),
            Times({"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
  EXPECT_EQ(NextAfter("0 2 * * *", "2026-03-28T12:00:00Z", berlin),
            Show(At("2026-03-29T01:00:00Z")));
  // 02:00, 02:30 and 03:00 all land on 01:00 UTC: it fires once, then 03:30 CEST.
  EXPECT_EQ(Fires("0,30 2-3 * * *", "2026-03-29T00:00:00Z", 3, berlin),
            Times({"2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:00:00Z"}));
  EXPECT_EQ(Fires("0 2,3 * * *", "2026-03-28T12:00:00Z", 2, berlin),
            Times({"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}));
  // Just before the gap, and from the transition instant itself.
  EXPECT_EQ(NextAfter("30 2 * * *", "2026-03-29T00:59:59.999Z", berlin),
            Show(At("2026-03-29T01:00:00Z")));
  EXPECT_EQ(NextAfter("30 2 * * *", "2026-03-29T01:00:00Z", berlin),
            Show(At("2026-03-30T00:30:00Z")));
}

TEST(CronDstTest, BerlinSpringForwardSkipsWildcardTimesInTheGap) {
  const date::time_zone* berlin = Zone("Europe/Berlin");
  // 01:45 CET, then 03:00 CEST: 02:00-02:45 do not exist. In UTC still every 15 minutes.
  EXPECT_EQ(Fires("*/15 * * * *", "2026-03-29T00:30:00Z", 3, berlin),
            Times({"2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"}));
  EXPECT_EQ(Fires("0 * * * *", "2026-03-28T23:30:00Z", 3, berlin),
            Times({"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}));
  // A wildcard minute in a fixed hour is not a fixed time: hour 2 is skipped that day.
  EXPECT_EQ(NextAfter("*/15 2 * * *", "2026-03-28T12:00:00Z", berlin),
            Show(At("2026-03-30T00:00:00Z")));
}

TEST(CronDstTest, BerlinFallBackFiresARepeatedTimeOnceAtItsFirstOccurrence) {
  const date::time_zone* berlin = Zone("Europe/Berlin");
  // 02:30 CEST (00:30 UTC) on 25 October, not again at 02:30 CET; then 02:30 CET on the 26th.
  EXPECT_EQ(Fires("30 2 * * *", "2026-10-24T12:00:00Z", 2, berlin),
            Times({"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  // Asked during the second pass (02:10 CET): the repeated times are done.
  EXPECT_EQ(NextAfter("30 2 * * *", "2026-10-25T01:10:00Z", berlin),
            Show(At("2026-10-26T01:30:00Z")));
  EXPECT_EQ(NextAfter("*/15 * * * *", "2026-10-25T01:10:00Z", berlin),
            Show(At("2026-10-25T02:00:00Z")));
  // Every 15 minutes: 02:00-02:45 CEST, then 03:00 CET; the second pass does not fire.
  EXPECT_EQ(Fires("*/15 * * * *", "2026-10-24T23:50:00Z", 6, berlin),
            Times({"2026-10-25T00:00:00Z", "2026-10-25T00:15:00Z", "2026-10-25T00:30:00Z",
                   "2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:15:00Z"}));
  EXPECT_EQ(Fires("0 * * * *", "2026-10-24T23:30:00Z", 3, berlin),
            Times({"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"}));
}

TEST(CronDstTest, NewYorkBothTransitions) {
  const date::time_zone* new_york = Zone("America/New_York");
  // Spring: 02:30 does not exist on 8 March and fires at 03:00 EDT (07:00 UTC).
  EXPECT_EQ(Fires("30 2 * * *", "2026-03-07T00:00:00Z", 3, new_york),
            Times({"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}));
  EXPECT_EQ(Fires("*/15 * * * *", "2026-03-08T06:40:00Z", 3, new_york),
            Times({"2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"}));
  // Autumn: 01:30 EDT (05:30 UTC) once on 1 November, then 01:30 EST on the 2nd.
  EXPECT_EQ(Fires("30 1 * * *", "2026-10-31T12:00:00Z", 2, new_york),
            Times({"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}));
  EXPECT_EQ(Fires("*/15 * * * *", "2026-11-01T04:50:00Z", 6, new_york),
            Times({"2026-11-01T05:00:00Z", "2026-11-01T05:15:00Z", "2026-11-01T05:30:00Z",
                   "2026-11-01T05:45:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:15:00Z"}));
  EXPECT_EQ(NextAfter("0 9 * * *", "2026-11-01T00:00:00Z", new_york),
            Show(At("2026-11-01T14:00:00Z")));
  EXPECT_EQ(NextAfter("0 9 * * *", "2026-07-01T00:00:00Z", new_york),
            Show(At("2026-07-01T13:00:00Z")));
}

TEST(CronDstTest, AWholeSkippedDayMovesAFixedTimeToItsEnd) {
  // Samoa moved across the date line: local 2011-12-30 never happened (23:59:59 on the 29th at
  // UTC-10 was followed by 00:00 on the 31st at UTC+14, at 10:00 UTC on the 30th).
  const date::time_zone* apia = Zone("Pacific/Apia");
  EXPECT_EQ(Fires("0 12 * * *", "2011-12-29T00:00:00Z", 3, apia),
            Times({"2011-12-29T22:00:00Z", "2011-12-30T10:00:00Z", "2011-12-30T22:00:00Z"}));
  EXPECT_EQ(Fires("0 */6 * * *", "2011-12-30T06:00:00Z", 2, apia),
            Times({"2011-12-30T10:00:00Z", "2011-12-30T16:00:00Z"}));
}

TEST(CronDstTest, AYearOfFiresCountsEachLocalTimeOnce) {
  const date::time_zone* berlin = Zone("Europe/Berlin");
  const auto count_2026 = [](std::string_view text, const date::time_zone* zone) {
    Result<CronExpression> expr = CronExpression::Parse(text);
    EXPECT_TRUE(expr.ok());
    // Local 2026 in Berlin runs from 2025-12-31T23:00Z to 2026-12-31T23:00Z.
    const Millis end = At(zone ? "2026-12-31T23:00:00Z" : "2027-01-01T00:00:00Z");
    Millis at = At(zone ? "2025-12-31T22:59:59Z" : "2025-12-31T23:59:59Z");
    int count = 0;
    while (std::optional<Millis> next = expr->Next(at, zone, Millis{})) {
      if (*next >= end) break;
      EXPECT_GT(*next, at);
      ++count;
      at = *next;
    }
    return count;
  };
  EXPECT_EQ(count_2026("*/15 * * * *", nullptr), 365 * 96);
  // Four quarter hours do not exist in March; the repeated four in October fire once.
  EXPECT_EQ(count_2026("*/15 * * * *", berlin), 365 * 96 - 4);
  // A fixed time fires every day: moved in March, once in October.
  EXPECT_EQ(count_2026("30 2 * * *", berlin), 365);
  EXPECT_EQ(count_2026("0 0 * * MON", berlin), 52);
}

TEST(CronNextTest, ImpossibleExpressionsGiveUpQuickly) {
  Result<CronExpression> expr = CronExpression::Parse("0 0 30 2 *");
  ASSERT_TRUE(expr.ok());
  const date::time_zone* berlin = Zone("Europe/Berlin");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(expr->Next(At("2026-01-01T00:00:00Z"), berlin, Millis{}).has_value());
  }
  // A bounded search skips month by month: far below a millisecond per call even under sanitizers.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(CronNextTest, OutOfRangeYearsNeverFire) {
  EXPECT_EQ(NextAfter("0 0 1 1 *", "9999-06-01T00:00:00Z"), "never");
  EXPECT_EQ(NextAfter("0 0 * * *", "9999-12-30T12:00:00Z"), Show(At("9999-12-31T00:00:00Z")));
}

TEST(CronNextTest, ExtremeInstantsDoNotOverflow) {
  const Millis max = Millis::max(), min = Millis::min();
  const date::time_zone* berlin = Zone("Europe/Berlin");
  Result<CronExpression> cron = CronExpression::Parse("* * * * * *");
  ASSERT_TRUE(cron.ok());
  EXPECT_FALSE(cron->Next(max, berlin, Millis{}).has_value());
  EXPECT_FALSE(cron->Next(min, berlin, Millis{}).has_value());
  Result<CronExpression> every = CronExpression::Parse("@every 366d");
  ASSERT_TRUE(every.ok());
  EXPECT_FALSE(every->Next(max, nullptr, Millis{}).has_value());
  EXPECT_FALSE(every->Next(min, nullptr, max).has_value());
  EXPECT_FALSE(every->Next(max - std::chrono::hours(1), nullptr, min).has_value());
  EXPECT_EQ(every->Next(min, nullptr, min), min + std::chrono::days(366));
}

// A small deterministic generator (an LCG), so that a failure names a reproducible expression.
class RandomSource {
 public:
  size_t Below(size_t n) {
    state_ = state_ * 6364136223846793005u + 1442695040888963407u;
    return static_cast<size_t>((state_ >> 33) % n);
  }
  int Between(int lo, int hi) {
    return lo + static_cast<int>(Below(static_cast<size_t>(hi - lo + 1)));
  }

 private:
  uint64_t state_ = 42;
};

// One random field from the grammar: a list of values, ranges, steps and the field's specials,
// now and then out of range.
std::string RandomField(RandomSource& random, int lo, int hi, std::vector<std::string> specials) {
  std::string field;
  const size_t items = 1 + random.Below(3);
  for (size_t i = 0; i < items; ++i) {
    if (i > 0) field += ',';
    const int a = random.Between(lo, hi + 1), b = random.Between(lo, hi + 1);
    switch (random.Below(6)) {
      case 0:
        return "*";
      case 1:
        field += std::to_string(a);
        break;
      case 2:
        field += std::to_string(std::min(a, b)) + "-" + std::to_string(std::max(a, b));
        break;
      case 3:
        field += "*/" + std::to_string(random.Between(1, hi - lo + 1));
        break;
      case 4:
        field += std::to_string(a) + "/" + std::to_string(random.Between(1, 9));
        break;
      case 5:
        field += specials.empty() ? std::to_string(a) : specials[random.Below(specials.size())];
        break;
    }
  }
  return field;
}

// Random expressions: every accepted one yields strictly increasing fire times, each of which is
// the first after the instant just before it (in zones with DST changes in the searched span); the
// sanitizer build checks that nothing misbehaves on the way.
TEST(CronNextTest, RandomExpressionsAreConsistent) {
  const date::time_zone* zones[] = {nullptr, Zone("Europe/Berlin"), Zone("America/New_York")};
  RandomSource random;
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    if (random.Below(4) == 0) text += RandomField(random, 0, 59, {}) + " ";
    text += RandomField(random, 0, 59, {}) + " " + RandomField(random, 0, 23, {}) + " " +
            RandomField(random, 1, 31, {"L", "LW", "15W", "1W", "31W", "?"}) + " " +
            RandomField(random, 1, 12, {"JAN", "feb-apr", "OCT/2"}) + " " +
            RandomField(random, 0, 7, {"5L", "FRIL", "1#1", "0#5", "MON-FRI", "?", "sat"});
    Result<CronExpression> expr = CronExpression::Parse(text);
    if (!expr.ok()) {
      EXPECT_TRUE(expr.status().message().starts_with("position ")) << text;
      continue;
    }
    ++accepted;
    const date::time_zone* zone = zones[random.Below(std::size(zones))];
    // Shortly before Berlin's and New York's autumn changes.
    Millis at = At(random.Below(2) ? "2026-10-24T20:00:00Z" : "2026-10-31T20:00:00Z") +
                std::chrono::minutes(random.Below(720));
    for (int k = 0; k < 5; ++k) {
      const std::optional<Millis> next = expr->Next(at, zone, Millis{});
      if (!next) break;
      ASSERT_GT(*next, at) << text;
      ASSERT_EQ(Show(expr->Next(*next - std::chrono::milliseconds(1), zone, Millis{})), Show(next))
          << text;
      at = *next;
    }
  }
  EXPECT_GT(accepted, 1000);
}

// Arbitrary bytes from the grammar's alphabet: rejected with a position, or accepted.
TEST(CronParseTest, RandomTextIsRejectedWithAPosition) {
  const std::string_view alphabet = "0123456789*/-,?LW# \tJANMONFRIdhms@";
  RandomSource random;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const size_t length = random.Below(24);
    for (size_t j = 0; j < length; ++j) text += alphabet[random.Below(alphabet.size())];
    Result<CronExpression> expr = CronExpression::Parse(text);
    if (!expr.ok()) {
      EXPECT_TRUE(expr.status().message().starts_with("position ")) << text;
    }
  }
}

TEST(CronParseTest, TextIsTrimmed) {
  Result<CronExpression> expr = CronExpression::Parse(" \t*/5  *\t* * *  ");
  ASSERT_TRUE(expr.ok());
  EXPECT_EQ(expr->text(), "*/5  *\t* * *");
}

TEST(CronParseTest, RejectsWithPositionAndReason) {
  struct Case {
    std::string text;
    const char* message;
  };
  const Case cases[] = {
      {"", "position 1: expression is empty"},
      {"   ", "position 1: expression is empty"},
      {"0 0 * *", "position 8: expected 5 or 6 fields, found 4"},
      {"0 0 * * * * *", "position 13: expected 5 or 6 fields, found 7"},
      {"60 * * * *", "position 1: minute 60 is out of range 0-59"},
      {"  61 * * * *", "position 3: minute 61 is out of range 0-59"},
      {"0 0 25 * * *", "position 5: hour 25 is out of range 0-23"},
      {"0 24 * * *", "position 3: hour 24 is out of range 0-23"},
      {"0 0 0 * *", "position 5: day-of-month 0 is out of range 1-31"},
      {"0 0 32 * *", "position 5: day-of-month 32 is out of range 1-31"},
      {"0 0 * 13 *", "position 7: month 13 is out of range 1-12"},
      {"0 0 * * 8", "position 9: day-of-week 8 is out of range 0-7"},
      {"60 * * * * *", "position 1: second 60 is out of range 0-59"},
      {"0 99999999999 * * *", "position 3: hour 99999999999 is out of range 0-23"},
      {"5-3 * * * *", "position 1: minute range 5-3 is reversed"},
      {"0 0 * DEC-JAN *", "position 7: month range DEC-JAN is reversed"},
      {"*/0 * * * *", "position 3: minute step 0 is out of range 1-60"},
      {"0 */25 * * *", "position 5: hour step 25 is out of range 1-24"},
      {"*/ * * * *", "position 3: missing step after '/'"},
      {"*/x * * * *", "position 3: expected step after '/', found 'x'"},
      {"1,,2 * * * *", "position 3: empty item in the minute list"},
      {"1, * * * *", "position 2: empty item in the minute list"},
      {",1 * * * *", "position 1: empty item in the minute list"},
      {"1- * * * *", "position 3: missing minute value"},
      {"1x * * * *", "position 2: unexpected 'x' in minute"},
      {"*5 * * * *", "position 2: unexpected '5' in minute"},
      {"1-5-7 * * * *", "position 4: unexpected '-' in minute"},
      {"0 0 * * 1\xC3", "position 10: unexpected byte 0xC3 in day-of-week"},
      {"0 0 * FOO *", "position 7: unknown month name 'FOO'"},
      {"0 0 * * MONDAY", "position 9: unknown day-of-week name 'MONDAY'"},
      {"0 0 * * * junk", "position 11: unknown day-of-week name 'junk'"},
      {"0 JAN * * *", "position 3: expected hour value, found 'J'"},
      {"? * * * *", "position 1: ? is only allowed in day-of-month and day-of-week"},
      {"0 0 ?/2 * *", "position 6: unexpected '/' in day-of-month"},
      {"0 0 L-3 * *", "position 6: unexpected '-' after L"},
      {"0 0 * * L", "position 9: day-of-week L needs a weekday before it"},
      {"0 0 * * 1#6", "position 11: day-of-week occurrence 6 is out of range 1-5"},
      {"0 0 * * 1#0", "position 11: day-of-week occurrence 0 is out of range 1-5"},
      {"0 0 * * 1#", "position 11: missing occurrence after '#'"},
      {"0 0 32W * *", "position 5: day-of-month 32 is out of range 1-31"},
      {"0 0 15W5 * *", "position 8: unexpected '5' in day-of-month"},
      {"0 0 * * 5L2", "position 11: unexpected '2' in day-of-week"},
      {"0 0 W * *", "position 5: expected day-of-month value, found 'W'"},
      {"L * * * *", "position 1: expected minute value, found 'L'"},
      {"@reboot", "position 1: unknown macro '@reboot'"},
      {"@daily 5", "position 8: unexpected text after @daily"},
      {"@every", "position 7: @every needs a duration"},
      {"@every 0s", "position 8: @every duration 0s is shorter than 1s"},
      {"@every 999ms", "position 8: @every duration 999ms is shorter than 1s"},
      {"@every 367d", "position 8: @every duration 367d is longer than 366d"},
      {"@every 366d1s", "position 8: @every duration 366d1s is longer than 366d"},
      {"@every 99999999999999999999d", "position 8: @every duration"},
      {"@every 1h1h", "position 11: unit 'h' is repeated or out of order"},
      {"@every 30m1h", "position 12: unit 'h' is repeated or out of order"},
      {"@every 1w", "position 9: unknown unit 'w'"},
      {"@every 1H", "position 9: unknown unit 'H'"},
      {"@every 10", "position 10: expected a unit (d, h, m, s or ms) after 10"},
      {"@every 1.5h", "position 9: expected a unit (d, h, m, s or ms) after 1"},
      {"@every h", "position 8: expected a number in the @every duration, found 'h'"},
      {"@every 1h 30m", "position 11: unexpected text after the @every duration"},
      {std::string(257, '*'), "position 257: expression is longer than 256 characters"},
  };
  for (const Case& c : cases) {
    Result<CronExpression> expr = CronExpression::Parse(c.text);
    ASSERT_FALSE(expr.ok()) << "'" << c.text << "' parsed";
    EXPECT_EQ(expr.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_TRUE(expr.status().message().starts_with(c.message))
        << "'" << c.text << "': got \"" << expr.status().message() << "\", want \"" << c.message
        << "\"";
  }
}

TEST(CronParseTest, AcceptsTheFullSyntax) {
  for (const char* text :
       {"* * * * *", "0 0 * * *", "*/5 * * * *", "0-59/7 0-23/2 1-31/3 1-12/4 0-7/2", "1/5 * * * *",
        "0 0 1,15,L * *", "0 0 LW * *", "0 0 1W,15W * *", "0 0 ? * MON-FRI", "0 0 * * SUN#2,6L",
        "0 0 * jan-DEC sun-sat", "0 0 * * 7", "0 0 0 * * *", "59 59 23 31 12 7",
        "@every 1d2h3m4s5ms", "@every 1500ms", "@every 366d", "@every 1s", "@Yearly"}) {
    Result<CronExpression> expr = CronExpression::Parse(text);
    EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
  }
  EXPECT_TRUE(CronExpression::Parse("* * * * *" + std::string(247, ' ')).ok());
}

TEST(CronZoneTest, FindsIanaZonesAndNamesUnknownOnes) {
  Result<const date::time_zone*> berlin = FindZone("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  EXPECT_EQ((*berlin)->name(), "Europe/Berlin");
  Result<const date::time_zone*> utc = FindZone("UTC");
  ASSERT_TRUE(utc.ok());
  // UTC by name behaves as nullptr.
  EXPECT_EQ(NextAfter("30 2 * * *", "2026-03-29T00:00:00Z", *utc),
            NextAfter("30 2 * * *", "2026-03-29T00:00:00Z", nullptr));

  Result<const date::time_zone*> unknown = FindZone("Mars/Olympus_Mons");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("Mars/Olympus_Mons"), std::string::npos)
      << unknown.status().message();
  EXPECT_FALSE(FindZone("").ok());
}

}  // namespace
}  // namespace taskq::schedule
