// schedule_save.lua, schedule_remove.lua, schedule_list.lua, schedule_pause.lua,
// schedule_advance.lua and scheduler_lease.lua: the schedules' storage (docs/redis-keys.md).
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ScheduleScriptTest : public ScriptTest {
 protected:
  const broker::ScheduleKeys s_{"taskq"};
  broker::ScriptKeys Keys() const { return broker::ScheduleKeysOf(s_); }
  broker::ScriptKeys CountedKeys() const { return broker::ScheduleCountedKeysOf(s_); }

  broker::Reply Save(const std::string& id, const std::string& definition, const std::string& mode,
                     const std::string& next, const std::string& paused = "",
                     const std::string& max_runs = "0", const std::string& created = "") {
    return Eval("schedule_save", Keys(), {id, definition, mode, next, paused, max_runs, created});
  }
  broker::Reply Remove(const std::string& id) {
    return Eval("schedule_remove", CountedKeys(), {id});
  }
  broker::Reply Pause(const std::string& id, const std::string& flag, const std::string& next) {
    return Eval("schedule_pause", Keys(), {id, flag, next});
  }
  broker::Reply Advance(const std::string& id, const std::string& rev, const std::string& expected,
                        const std::string& next, const std::string& added = "1",
                        const std::string& last = "0", const std::string& job = "",
                        const std::optional<std::string>& missed = std::nullopt) {
    std::vector<std::string> args = {id, rev, expected, next, added, last, job};
    if (missed) args.push_back(*missed);
    return Eval("schedule_advance", CountedKeys(), args);
  }
  broker::Reply Lease(const std::string& token, const std::string& ms) {
    return Eval("scheduler_lease", {s_.leader()}, {token, ms});
  }
  std::string Record(const std::string& id) { return HGet(s_.state(), id); }
  // The state record "rev:next:runs:last_fire:paused:created:last_job" with created cut out
  // (it is Redis' time).
  std::string RecordWithoutCreated(const std::string& id) {
    std::string r = Record(id);
    size_t pos = 0;
    for (int i = 0; i < 5; ++i) pos = r.find(':', pos) + 1;
    size_t end = r.find(':', pos);
    return r.substr(0, pos) + "C" + r.substr(end);
  }
  std::vector<std::string> Due() { return Strings({"ZRANGE", s_.due(), "0", "-1", "WITHSCORES"}); }

  static constexpr const char* kDef = R"({"cron":"* * * * *","queue":"q"})";
  static constexpr const char* kOtherDef = R"({"cron":"0 * * * *","queue":"q"})";
};

TEST_F(ScheduleScriptTest, SaveCreatesDefinitionRecordAndDueEntry) {
  const long long before = Now();
  auto reply = Save("nightly", kDef, "create", "5000");
  ASSERT_TRUE(reply.view().is_array()) << reply.view().str();
  EXPECT_EQ(reply.view()[0].AsInt(), 1);
  EXPECT_EQ(reply.view()[1].str(), Record("nightly"));
  EXPECT_EQ(HGet(s_.definitions(), "nightly"), kDef);
  EXPECT_EQ(RecordWithoutCreated("nightly"), "1:5000:0:0:0:C:");
  const std::string record = Record("nightly");
  const long long created = std::stoll(record.substr(record.rfind(':', record.size() - 2) + 1));
  EXPECT_GE(created, before);
  EXPECT_EQ(Due(), (std::vector<std::string>{"nightly", "5000"}));
  EXPECT_EQ(s_.definitions(), "taskq:{:schedules}");
}

TEST_F(ScheduleScriptTest, SaveTakesTheCallersCreatedTimeForANewSchedule) {
  Save("a", kDef, "create", "5000", "", "0", "4321");
  EXPECT_EQ(Record("a"), "1:5000:0:0:0:4321:");
  Save("a", kOtherDef, "upsert", "6000", "", "0", "9999");  // kept when replaced
  EXPECT_EQ(Record("a"), "2:6000:0:0:0:4321:");
}

TEST_F(ScheduleScriptTest, CreateRefusesAnExistingIdAndWritesNothing) {
  Save("a", kDef, "create", "5000");
  auto before = Snapshot();
  auto reply = Save("a", kOtherDef, "create", "9000", "1");
  EXPECT_EQ(reply.view()[0].AsInt(), -1);
  EXPECT_EQ(reply.view()[1].str(), Record("a"));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ScheduleScriptTest, NewScheduleCanStartPausedOrEnded) {
  Save("p", kDef, "create", "5000", "1");
  EXPECT_EQ(RecordWithoutCreated("p"), "1:5000:0:0:1:C:");
  Save("e", kDef, "create", "-1");
  EXPECT_EQ(RecordWithoutCreated("e"), "1:-1:0:0:0:C:");
  EXPECT_TRUE(Due().empty());
}

TEST_F(ScheduleScriptTest, UpsertOfTheSameDefinitionKeepsTheState) {
  Save("a", kDef, "upsert", "5000");
  Advance("a", "1", "5000", "6000", "1", "5000", "s:a:5000");
  const std::string record = Record("a");
  auto reply = Save("a", kDef, "upsert", "99000");
  EXPECT_EQ(reply.view()[0].AsInt(), 0);
  EXPECT_EQ(Record("a"), record);  // next stays 6000: a re-sync loses no fire time
  EXPECT_EQ(Due(), (std::vector<std::string>{"a", "6000"}));
  // Only the paused flag may change.
  EXPECT_EQ(Save("a", kDef, "upsert", "99000", "1").view()[0].AsInt(), 0);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:6000:1:5000:1:C:s:a:5000");
  EXPECT_TRUE(Due().empty());
}

TEST_F(ScheduleScriptTest, UpsertOfANewDefinitionBumpsTheRevisionAndKeepsRuns) {
  Save("a", kDef, "upsert", "5000");
  Advance("a", "1", "5000", "6000", "1", "5000", "s:a:5000");
  auto reply = Save("a", kOtherDef, "upsert", "7200");
  EXPECT_EQ(reply.view()[0].AsInt(), 2);
  EXPECT_EQ(HGet(s_.definitions(), "a"), kOtherDef);
  EXPECT_EQ(RecordWithoutCreated("a"), "2:7200:1:5000:0:C:s:a:5000");
  EXPECT_EQ(Due(), (std::vector<std::string>{"a", "7200"}));
}

TEST_F(ScheduleScriptTest, ReplacedScheduleThatReachedMaxRunsEnds) {
  Save("a", kDef, "upsert", "5000");
  Advance("a", "1", "5000", "6000", "2", "5000", "s:a:5000");
  Save("a", kOtherDef, "upsert", "7200", "", "2");
  EXPECT_EQ(RecordWithoutCreated("a"), "2:-1:2:5000:0:C:s:a:5000");
  EXPECT_TRUE(Due().empty());
}

TEST_F(ScheduleScriptTest, SaveRejectsBadArgumentsAndWritesNothing) {
  Save("a", kDef, "create", "5000");
  auto before = Snapshot();
  const std::vector<std::vector<std::string>> cases = {
      {"", kDef, "create", "1", "", "0"},     {"b", "[1]", "create", "1", "", "0"},
      {"b", "", "create", "1", "", "0"},      {"b", "{", "create", "1", "", "0"},
      {"b", kDef, "replace", "1", "", "0"},   {"b", kDef, "create", "soon", "", "0"},
      {"b", kDef, "create", "-2", "", "0"},   {"b", kDef, "create", "1.5", "", "0"},
      {"b", kDef, "create", "1", "yes", "0"}, {"b", kDef, "create", "1", "", "-1"},
      {"b", kDef, "create", "1", "", "many"}, {"a", kOtherDef, "upsert", "x", "", "0"},
  };
  for (const auto& args : cases) {
    auto reply = Eval("schedule_save", Keys(), args);
    EXPECT_TRUE(reply.view().is_error()) << args[0] << " " << args[1] << " " << args[2];
  }
  EXPECT_TRUE(Save("b", kDef, "create", "1", "", "0", "yesterday").view().is_error());
  EXPECT_TRUE(Save("b", kDef, "create", "1", "", "0", "-5").view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ScheduleScriptTest, RemoveDeletesEveryTrace) {
  Save("a", kDef, "create", "5000");
  Save("b", kDef, "create", "6000");
  EXPECT_EQ(Remove("a").view().integer(), 1);
  EXPECT_FALSE(HExists(s_.definitions(), "a"));
  EXPECT_FALSE(HExists(s_.state(), "a"));
  EXPECT_EQ(Due(), (std::vector<std::string>{"b", "6000"}));
  EXPECT_EQ(Remove("a").view().integer(), 0);
  EXPECT_TRUE(Remove("").view().is_error());
}

TEST_F(ScheduleScriptTest, ListReturnsAllDueOrChosenSchedulesWithRedisTime) {
  const long long now = Now();
  Save("b", kDef, "create", std::to_string(now - 1000));
  Save("a", kOtherDef, "create", std::to_string(now + 3600000));
  Save("c", kDef, "create", std::to_string(now - 2000));
  Save("paused", kDef, "create", std::to_string(now - 5000), "1");
  auto ids = [](const broker::Reply& reply) {
    std::vector<std::string> out;
    for (size_t i = 1; i < reply.view().size(); i += 4) out.emplace_back(reply.view()[i].str());
    return out;
  };
  auto all = Eval("schedule_list", CountedKeys(), {"all", "1"});
  EXPECT_GE(all.view()[0].AsInt(), now);
  EXPECT_EQ(ids(all), (std::vector<std::string>{"a", "b", "c", "paused"}));
  EXPECT_EQ(all.view()[2].str(), kOtherDef);
  EXPECT_EQ(all.view()[3].str(), Record("a"));
  auto due = Eval("schedule_list", CountedKeys(), {"due", "10"});
  EXPECT_EQ(ids(due), (std::vector<std::string>{"c", "b"}));  // earliest first
  EXPECT_EQ(ids(Eval("schedule_list", CountedKeys(), {"due", "1"})),
            (std::vector<std::string>{"c"}));
  auto chosen = Eval("schedule_list", CountedKeys(), {"ids", "1", "c", "missing", "a"});
  EXPECT_EQ(ids(chosen), (std::vector<std::string>{"c", "a"}));
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"due", "0"}, {"due", "x"}, {"due", "10001"}, {"some", "1"}}) {
    EXPECT_TRUE(Eval("schedule_list", CountedKeys(), bad).view().is_error()) << bad[0] << bad[1];
  }
}

TEST_F(ScheduleScriptTest, PauseTakesTheScheduleOutOfDueAndResumeMovesItsNextFireTime) {
  Save("a", kDef, "create", "5000");
  EXPECT_EQ(Pause("a", "1", "").view().integer(), 1);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:5000:0:0:1:C:");
  EXPECT_TRUE(Due().empty());
  EXPECT_EQ(Pause("a", "1", "").view().integer(), 0);
  // Resume: the fire times that passed while paused are not caught up.
  EXPECT_EQ(Pause("a", "0", "90000").view().integer(), 1);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:90000:0:0:0:C:");
  EXPECT_EQ(Due(), (std::vector<std::string>{"a", "90000"}));
  EXPECT_EQ(Pause("a", "0", "95000").view().integer(), 0);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:90000:0:0:0:C:");
}

TEST_F(ScheduleScriptTest, ResumeOfAnEndedScheduleKeepsItEnded) {
  Save("a", kDef, "create", "-1", "1");
  EXPECT_EQ(Pause("a", "0", "90000").view().integer(), 1);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:-1:0:0:0:C:");
  EXPECT_TRUE(Due().empty());
}

TEST_F(ScheduleScriptTest, PauseOfAnUnknownScheduleOrBadArgumentsWritesNothing) {
  EXPECT_EQ(Pause("nope", "1", "").view().integer(), -1);
  EXPECT_TRUE(AllKeys().empty());
  Save("a", kDef, "create", "5000");
  auto before = Snapshot();
  for (const auto& args : std::vector<std::vector<std::string>>{{"a", "2", ""},
                                                                {"a", "", ""},
                                                                {"", "1", ""},
                                                                {"a", "0", ""},
                                                                {"a", "0", "x"},
                                                                {"a", "0", "-5"}}) {
    EXPECT_TRUE(Eval("schedule_pause", Keys(), args).view().is_error()) << args[1] << args[2];
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ScheduleScriptTest, AdvanceMovesTheNextFireTimeAndRecordsTheRun) {
  Save("a", kDef, "create", "5000");
  EXPECT_EQ(Advance("a", "1", "5000", "6000", "1", "5000", "s:a:5000").view().integer(), 1);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:6000:1:5000:0:C:s:a:5000");
  EXPECT_EQ(Due(), (std::vector<std::string>{"a", "6000"}));
  EXPECT_FALSE(HExists(s_.missed(), "a"));
  // A skip (missed fire times, nothing enqueued) keeps the last run and counts what it missed.
  EXPECT_EQ(Advance("a", "1", "6000", "9000", "0", "0", "", "2").view().integer(), 1);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:9000:1:5000:0:C:s:a:5000");
  EXPECT_EQ(HGet(s_.missed(), "a"), "2");
  // The end: out of due.
  EXPECT_EQ(Advance("a", "1", "9000", "-1", "2", "9000", "s:a:9000").view().integer(), 1);
  EXPECT_EQ(RecordWithoutCreated("a"), "1:-1:3:9000:0:C:s:a:9000");
  EXPECT_TRUE(Due().empty());
  EXPECT_EQ(HGet(s_.missed(), "a"), "2");  // no missed count: none added
}

TEST_F(ScheduleScriptTest, MissedCountsAddUpAreListedAndGoWithTheSchedule) {
  Save("a", kDef, "create", "5000");
  Save("b", kDef, "create", "5000");
  ASSERT_EQ(Advance("a", "1", "5000", "6000", "0", "0", "", "3").view().integer(), 1);
  ASSERT_EQ(Advance("a", "1", "6000", "7000", "1", "6000", "s:a:6000", "4").view().integer(), 1);
  // Refused (stale expected time): counts nothing.
  ASSERT_EQ(Advance("a", "1", "6000", "7000", "0", "0", "", "9").view().integer(), 0);
  auto all = Eval("schedule_list", CountedKeys(), {"all", "1"});
  ASSERT_EQ(all.view().size(), 9u);  // now, then id, definition, record, missed per schedule
  EXPECT_EQ(all.view()[1].str(), "a");
  EXPECT_EQ(all.view()[4].AsInt(), 7);
  EXPECT_EQ(all.view()[5].str(), "b");
  EXPECT_EQ(all.view()[8].AsInt(), 0);
  ASSERT_EQ(Remove("a").view().integer(), 1);
  EXPECT_FALSE(HExists(s_.missed(), "a"));
  Save("a", kDef, "create", "5000");  // the same id again starts from nothing
  EXPECT_EQ(Eval("schedule_list", CountedKeys(), {"ids", "1", "a"}).view()[4].AsInt(), 0);
}

TEST_F(ScheduleScriptTest, AdvanceIsACompareAndSet) {
  Save("a", kDef, "create", "5000");
  ASSERT_EQ(Advance("a", "1", "5000", "6000", "1", "5000", "s:a:5000").view().integer(), 1);
  auto before = Snapshot();
  // A second scheduler that handled the same fire time: refused, runs counted once.
  EXPECT_EQ(Advance("a", "1", "5000", "6000", "1", "5000", "s:a:5000").view().integer(), 0);
  // The definition changed since it was read.
  EXPECT_EQ(Advance("a", "2", "6000", "7000").view().integer(), 0);
  EXPECT_EQ(Advance("gone", "1", "6000", "7000").view().integer(), 0);
  EXPECT_EQ(Snapshot(), before);
  Pause("a", "1", "");
  before = Snapshot();
  EXPECT_EQ(Advance("a", "1", "6000", "7000").view().integer(), 0);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ScheduleScriptTest, AdvanceRejectsBadArgumentsAndWritesNothing) {
  Save("a", kDef, "create", "5000");
  auto before = Snapshot();
  const std::vector<std::vector<std::string>> cases = {
      {"", "1", "5000", "6000", "1", "0", ""},       {"a", "x", "5000", "6000", "1", "0", ""},
      {"a", "1", "", "6000", "1", "0", ""},          {"a", "1", "5000", "-2", "1", "0", ""},
      {"a", "1", "5000", "soon", "1", "0", ""},      {"a", "1", "5000", "6000", "-1", "0", ""},
      {"a", "1", "5000", "6000", "1", "-3", ""},     {"a", "1", "5000", "6000", "1", "5000", ""},
      {"a", "1", "5000", "6000", "1", "0"},          {"a", "1", "5000", "6000", "1", "0", "", "-1"},
      {"a", "1", "5000", "6000", "1", "0", "", "x"},
  };
  for (const auto& args : cases) {
    EXPECT_TRUE(Eval("schedule_advance", CountedKeys(), args).view().is_error())
        << args[1] << " " << args[3] << " " << args[4] << " " << args[5];
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ScheduleScriptTest, LeaseHasOneHolderAndOnlyItRenewsOrGivesItUp) {
  EXPECT_EQ(Lease("one", "2000").view().integer(), 1);
  EXPECT_EQ(Get(s_.leader()), "one");
  const long long ttl = Run({"PTTL", s_.leader()}).view().integer();
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 2000);
  EXPECT_EQ(Lease("two", "2000").view().integer(), 0);
  EXPECT_EQ(Lease("two", "0").view().integer(), 0);  // not its lease to give up
  EXPECT_EQ(Get(s_.leader()), "one");
  EXPECT_EQ(Lease("one", "60000").view().integer(), 1);  // renewed
  EXPECT_GT(Run({"PTTL", s_.leader()}).view().integer(), 2000);
  EXPECT_EQ(Lease("one", "0").view().integer(), 1);
  EXPECT_FALSE(Exists(s_.leader()));
  EXPECT_EQ(Lease("two", "2000").view().integer(), 1);
  EXPECT_EQ(Get(s_.leader()), "two");
}

TEST_F(ScheduleScriptTest, ExpiredLeaseGoesToTheNextTaker) {
  EXPECT_EQ(Lease("one", "1").view().integer(), 1);
  Run({"PEXPIRE", s_.leader(), "1"});
  ASSERT_TRUE([&] {
    for (int i = 0; i < 1000 && Exists(s_.leader()); ++i) Run({"PING"});
    return !Exists(s_.leader());
  }());
  EXPECT_EQ(Lease("two", "2000").view().integer(), 1);
  EXPECT_EQ(Get(s_.leader()), "two");
}

TEST_F(ScheduleScriptTest, LeaseRejectsBadArguments) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"", "2000"}, {"one", "-1"}, {"one", "x"}, {"one", "1.5"}}) {
    EXPECT_TRUE(Eval("scheduler_lease", {s_.leader()}, args).view().is_error()) << args[1];
  }
  EXPECT_TRUE(AllKeys().empty());
}

}  // namespace
}  // namespace taskq::testing
