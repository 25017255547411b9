#include "scheduler/fire_times.h"

#include <gtest/gtest.h>

#include "common/job_codec.h"

namespace taskq::scheduler {
namespace {

constexpr int64_t kMinute = 60000;
constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z, a whole minute

CompiledSchedule Make(const std::string& json) {
  auto definition = ParseScheduleDefinition(json);
  EXPECT_TRUE(definition.ok()) << definition.status().ToString();
  auto compiled = Compile(*definition);
  EXPECT_TRUE(compiled.ok()) << compiled.status().ToString();
  return std::move(*compiled);
}

CompiledSchedule EveryMinute(const std::string& extra = "") {
  return Make(R"({"id":"m","cron":"* * * * *","type":"x")" + extra + "}");
}

TEST(FireTimesTest, OnTimeFireTimeGetsOneJobAndTheNextFollows) {
  auto plan = PlanFires(EveryMinute(), kT0, 0, 0, kT0 + 300, std::chrono::seconds(30));
  EXPECT_EQ(plan.fire_times, (std::vector<int64_t>{kT0}));
  EXPECT_EQ(plan.next_ms, kT0 + kMinute);
  EXPECT_EQ(plan.missed, 0);
}

TEST(FireTimesTest, SkipDropsMissedFireTimesButNotTheOnTimeOne) {
  // Down for five minutes: T0..T0+4m are more than 30 s late, T0+5m is 10 s late.
  const int64_t now = kT0 + 5 * kMinute + 10000;
  auto plan = PlanFires(EveryMinute(), kT0, 0, 0, now, std::chrono::seconds(30));
  EXPECT_EQ(plan.fire_times, (std::vector<int64_t>{kT0 + 5 * kMinute}));
  EXPECT_EQ(plan.next_ms, kT0 + 6 * kMinute);
  EXPECT_EQ(plan.missed, 5);  // T0 .. T0+4m
  // Nothing on time either: nothing enqueued, the schedule still moves on.
  auto late =
      PlanFires(EveryMinute(), kT0, 0, 0, kT0 + 5 * kMinute + 40000, std::chrono::seconds(30));
  EXPECT_TRUE(late.fire_times.empty());
  EXPECT_EQ(late.next_ms, kT0 + 6 * kMinute);
  EXPECT_EQ(late.missed, 6);
}

TEST(FireTimesTest, CatchUpEnqueuesTheMostRecentMissedOnes) {
  const int64_t now = kT0 + 5 * kMinute + 10000;
  auto plan = PlanFires(EveryMinute(R"(,"missed":{"catch_up":2})"), kT0, 0, 0, now,
                        std::chrono::seconds(30));
  EXPECT_EQ(plan.fire_times,
            (std::vector<int64_t>{kT0 + 3 * kMinute, kT0 + 4 * kMinute, kT0 + 5 * kMinute}));
  EXPECT_EQ(plan.missed, 3);  // five late, the last two caught up
  auto all = PlanFires(EveryMinute(R"(,"missed":{"catch_up":100})"), kT0, 0, 0, now,
                       std::chrono::seconds(30));
  EXPECT_EQ(all.fire_times.size(), 6u);
  EXPECT_EQ(all.fire_times.front(), kT0);
  EXPECT_EQ(all.missed, 0);
}

TEST(FireTimesTest, MaxRunsEndsTheSchedule) {
  const int64_t now = kT0 + 2 * kMinute;
  auto plan = PlanFires(EveryMinute(R"(,"max_runs":10)"), kT0, 9, 0, now, std::chrono::hours(1));
  EXPECT_EQ(plan.fire_times, (std::vector<int64_t>{kT0}));
  EXPECT_EQ(plan.next_ms, -1);
  auto exact = PlanFires(EveryMinute(R"(,"max_runs":10)"), kT0, 7, 0, now, std::chrono::hours(1));
  EXPECT_EQ(exact.fire_times.size(), 3u);
  EXPECT_EQ(exact.next_ms, -1);
  auto more = PlanFires(EveryMinute(R"(,"max_runs":10)"), kT0, 0, 0, now, std::chrono::hours(1));
  EXPECT_EQ(more.fire_times.size(), 3u);
  EXPECT_EQ(more.next_ms, kT0 + 3 * kMinute);
}

TEST(FireTimesTest, StartAndEndBoundTheFireTimes) {
  auto s = EveryMinute(R"(,"start_ms":)" + std::to_string(kT0 + 90000) + R"(,"end_ms":)" +
                       std::to_string(kT0 + 4 * kMinute));
  EXPECT_EQ(NextFireTime(s, kT0, kT0), kT0 + 2 * kMinute);
  EXPECT_EQ(NextFireTimes(s, 0, 0, 10),
            (std::vector<int64_t>{kT0 + 2 * kMinute, kT0 + 3 * kMinute, kT0 + 4 * kMinute}));
  auto plan =
      PlanFires(s, kT0 + 4 * kMinute, 2, 0, kT0 + 4 * kMinute + 5, std::chrono::seconds(30));
  EXPECT_EQ(plan.fire_times, (std::vector<int64_t>{kT0 + 4 * kMinute}));
  EXPECT_EQ(plan.next_ms, -1);
}

TEST(FireTimesTest, EveryIsAnchoredAtStartOrCreation) {
  auto s = Make(R"({"id":"e","cron":"@every 30s","type":"x"})");
  EXPECT_EQ(NextFireTime(s, kT0 + 1000, kT0 + 7), kT0 + 30007);
  auto started = Make(R"({"id":"e","cron":"@every 30s","type":"x","start_ms":)" +
                      std::to_string(kT0 + 5000) + "}");
  EXPECT_EQ(NextFireTime(started, kT0, kT0 + 7), kT0 + 5000);
  EXPECT_EQ(NextFireTime(started, kT0 + 5000, kT0 + 7), kT0 + 35000);
}

TEST(FireTimesTest, TimeZoneComesFromTheDefinition) {
  // 09:00 in New York: 14:00 UTC in winter, 13:00 UTC after the switch on 2026-03-08.
  auto s = Make(R"({"id":"ny","cron":"0 9 * * *","tz":"America/New_York","type":"x"})");
  const int64_t march7 = 1772841600000;  // 2026-03-07T00:00:00Z
  EXPECT_EQ(NextFireTimes(s, march7, 0, 2),
            (std::vector<int64_t>{march7 + 14 * 3600000, march7 + 86400000 + 13 * 3600000}));
}

TEST(FireTimesTest, TooLongAWalkKeepsOnlyTheOnTimeFireTimes) {
  auto s = Make(R"({"id":"s","cron":"* * * * * *","type":"x","missed":{"catch_up":5}})");
  const int64_t now = kT0 + 3600000;
  auto plan = PlanFires(s, kT0, 0, 0, now, std::chrono::seconds(3), 100);
  EXPECT_EQ(plan.fire_times, (std::vector<int64_t>{now - 2000, now - 1000, now}));
  EXPECT_EQ(plan.next_ms, now + 1000);
  EXPECT_EQ(plan.missed, 100);  // the ones walked: the rest of the gap is not counted
}

TEST(FireTimesTest, FireJobIdsAreValidJobIdsAndDistinctPerFireTime) {
  const std::string longest(64, 'a');
  EXPECT_TRUE(ValidateJobId(FireJobId(longest, 7258118400000)).ok());
  EXPECT_EQ(FireJobId("nightly", kT0), "s:nightly:1767225600000");
  EXPECT_NE(FireJobId("a", kT0), FireJobId("a", kT0 + 1000));
}

}  // namespace
}  // namespace taskq::scheduler
