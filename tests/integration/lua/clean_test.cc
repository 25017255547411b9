#include "script_fixture.h"

namespace taskq::testing {
namespace {

class CleanScriptTest : public ScriptTest {
 protected:
  broker::Reply Clean(const std::string& zset, std::string older_than_ms, std::string limit) {
    return Eval("clean", {zset}, {base(), older_than_ms, limit});
  }
  // Finishes the given jobs (completed with a result, or dead when `dead`), each with progress and
  // a log line, and sets their finish times to the given ages.
  void Finish(const std::vector<std::string>& ids, const std::vector<long long>& ages_ms,
              bool dead = false) {
    for (const auto& id : ids) Enqueue(id);
    auto claim = Claim(static_cast<int>(ids.size()));
    ASSERT_EQ(ClaimedIds(claim), ids);
    long long now = Now();
    for (size_t i = 0; i < ids.size(); ++i) {
      auto progress = Eval("progress", ProgressKeys(),
                           {base(), "10", ids[i], TokenOf(claim, i), "100", "1", "line"});
      ASSERT_EQ(Ints(progress), (std::vector<long long>{1}));
      if (dead) {
        FailJob(ids[i], TokenOf(claim, i), -1);
      } else {
        CompleteJob(ids[i], TokenOf(claim, i), R"({"id":")" + ids[i] + R"("})");
      }
      Run({"ZADD", dead ? q().dead() : q().completed(), "XX", std::to_string(now - ages_ms[i]),
           ids[i]});
    }
  }
  void ExpectGone(const std::string& id) { ExpectNoTrace(id); }
};

TEST_F(CleanScriptTest, RemovesOnlyJobsFinishedLongerAgo) {
  Finish({"old", "recent"}, {100000, 1000});
  EXPECT_EQ(Clean(q().completed(), "50000", "100").view().integer(), 1);
  ExpectGone("old");
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"recent"}));
  EXPECT_TRUE(HasBody("recent"));
  EXPECT_EQ(StateOf("recent").state, "completed");
  EXPECT_EQ(ResultOf("recent"), R"({"id":"recent"})");
  EXPECT_EQ(ProgressOf("recent"), "100");
  EXPECT_TRUE(Exists(q().job_logs("recent")));
}

TEST_F(CleanScriptTest, CleansTheDeadZsetWithErrorsAndLeavesTheOtherAlone) {
  Finish({"c1"}, {100000});
  Finish({"d1", "d2"}, {100000, 1000}, true);
  ASSERT_TRUE(Exists(q().job_errors("d1")));
  EXPECT_EQ(Clean(q().dead(), "50000", "100").view().integer(), 1);
  ExpectGone("d1");
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"d2"}));
  EXPECT_TRUE(Exists(q().job_errors("d2")));
  EXPECT_EQ(StateOf("d2").state, "dead");
  EXPECT_TRUE(HasProgress("d2"));
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"c1"}));
  EXPECT_TRUE(HasBody("c1"));
  EXPECT_EQ(StateOf("c1").state, "completed");
  EXPECT_TRUE(HasResult("c1"));
  EXPECT_TRUE(HasProgress("c1"));
}

TEST_F(CleanScriptTest, LimitBoundsOneCallOldestFirst) {
  Finish({"a", "b", "c"}, {200000, 300000, 100000});
  EXPECT_EQ(Clean(q().completed(), "0", "2").view().integer(), 2);
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"c"}));
  ExpectGone("a");
  ExpectGone("b");
  EXPECT_EQ(Clean(q().completed(), "0", "2").view().integer(), 1);
  EXPECT_EQ(Clean(q().completed(), "0", "2").view().integer(), 0);
  // What remains: the queue's meta and its event stream (the removals were recorded).
  EXPECT_EQ(AllKeys(), (std::vector<std::string>{q().events(), q().meta()}));
}

TEST_F(CleanScriptTest, ZeroAgeRemovesEverythingFinishedByNow) {
  Finish({"a", "b"}, {0, 0});
  EXPECT_EQ(Clean(q().completed(), "0", "10").view().integer(), 2);
  EXPECT_FALSE(Exists(q().completed()));
  ExpectGone("a");
  ExpectGone("b");
}

TEST_F(CleanScriptTest, RemovesMoreThanOneChunkInOneCall) {
  // More ids than one DEL/HDEL/ZREM chunk (1000): the script splits them.
  const int kJobs = 2500;
  const std::string record = EncodeState({{"st", "completed"}, {"a", "1"}, {"tf", "1"}});
  broker::Command set{"HSET", q().jobs()};
  broker::Command zadd{"ZADD", q().completed()};
  broker::Command states{"HSET", q().state()};
  broker::Command results{"HSET", q().results()};
  broker::Command progress{"HSET", q().progress()};
  for (int i = 0; i < kJobs; ++i) {
    std::string id = "j" + std::to_string(i);
    set.Add(id).Add(R"({"c":1,"t":"x","d":{}})");
    zadd.Add(static_cast<long long>(i + 1)).Add(id);
    states.Add(id).Add(record);
    results.Add(id).Add("1");
    progress.Add(id).Add("1");
  }
  Run(set);
  Run(zadd);
  Run(states);
  Run(results);
  Run(progress);
  SeedBody("keep", R"({"c":1,"t":"x","d":{}})");
  SeedState("keep", {{"st", "completed"}, {"a", "1"}});
  Run({"HSET", q().results(), "keep", "1"});
  Run({"ZADD", q().completed(), std::to_string(Now() + 100000), "keep"});
  EXPECT_EQ(Clean(q().completed(), "0", "10000").view().integer(), kJobs);
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(AllKeys(), (std::vector<std::string>{q().completed(), q().events(), q().jobs(),
                                                 q().results(), q().state()}));
  EXPECT_EQ(Strings({"HKEYS", q().state()}), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(Strings({"HKEYS", q().results()}), (std::vector<std::string>{"keep"}));
}

TEST_F(CleanScriptTest, NothingOldEnoughChangesNothing) {
  Finish({"a"}, {1000});
  auto before = Snapshot();
  EXPECT_EQ(Clean(q().completed(), "50000", "10").view().integer(), 0);
  EXPECT_EQ(Clean(q().dead(), "0", "10").view().integer(), 0);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(CleanScriptTest, RejectsBadArguments) {
  Finish({"a"}, {100000});
  auto before = Snapshot();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"-1", "10"}, {"x", "10"}, {"", "10"}, {"0", "0"}, {"0", "10001"}, {"0", "x"}};
  for (const auto& [older_than, limit] : bad) {
    EXPECT_TRUE(Clean(q().completed(), older_than, limit).view().is_error())
        << older_than << " " << limit;
  }
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
