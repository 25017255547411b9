#include "script_fixture.h"

namespace taskq::testing {
namespace {

class RemoveScriptTest : public ScriptTest {
 protected:
  broker::Reply Remove(const std::string& id, const std::string& mode) {
    return Eval("remove", RemoveKeys(), {base(), id, mode});
  }
  // One job in each state (named after it), each with a log line so that every per-job key
  // exists; the jobs that ran also have progress, the completed one a result. Plus "other",
  // waiting after "waiting". Returns the active job's token.
  std::string SeedEveryState() {
    for (const char* id : {"active", "completed", "dead", "retrying"}) Enqueue(id);
    auto claim = Claim(4);
    for (size_t i = 0; i < 4; ++i) {
      auto reply = Eval("progress", ProgressKeys(),
                        {base(), "10", ClaimedIds(claim)[i], TokenOf(claim, i), "50", "0"});
      EXPECT_EQ(Ints(reply), (std::vector<long long>{1}));
    }
    CompleteJob("completed", TokenOf(claim, 1), R"({"ok":1})");
    FailJob("dead", TokenOf(claim, 2), -1);
    FailJob("retrying", TokenOf(claim, 3), 60000);
    Enqueue("waiting");
    Enqueue("other");
    Enqueue("prioritized", 7);
    Enqueue("delayed", 0, 60000);
    Enqueue("delayed_prio", -3, 60000);  // has a state record
    for (const char* id : {"active", "completed", "dead", "retrying", "waiting", "prioritized",
                           "delayed", "delayed_prio"}) {
      SeedLogLine(id, "line");
    }
    EXPECT_TRUE(HasResult("completed"));
    EXPECT_TRUE(HasState("delayed_prio"));
    return TokenOf(claim, 0);
  }
  void ExpectGone(const std::string& id) {
    ExpectNoTrace(id);
    auto waiting = List(q().wait());
    EXPECT_EQ(std::count(waiting.begin(), waiting.end(), id), 0) << id;
    for (const auto& zset : {q().prioritized(), q().delayed(), q().retry(), q().active(),
                             q().completed(), q().dead()}) {
      EXPECT_EQ(ZScore(zset, id), -1) << zset << " " << id;
    }
  }
};

TEST_F(RemoveScriptTest, CancelRemovesJobsNotYetRunning) {
  SeedEveryState();
  ASSERT_TRUE(Exists(q().job_errors("retrying")));
  for (const char* id : {"waiting", "prioritized", "delayed", "delayed_prio", "retrying"}) {
    EXPECT_EQ(Remove(id, "cancel").view().integer(), 1) << id;
    ExpectGone(id);
  }
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"other"}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"active"}));
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"completed"}));
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"dead"}));
  EXPECT_TRUE(HasBody("other"));
  for (const char* id : {"active", "completed", "dead"}) EXPECT_TRUE(HasState(id)) << id;
  EXPECT_TRUE(HasResult("completed"));
  EXPECT_TRUE(HasProgress("active"));
}

TEST_F(RemoveScriptTest, RemoveDeletesEveryJobNotRunning) {
  SeedEveryState();
  for (const char* id :
       {"waiting", "prioritized", "delayed", "delayed_prio", "retrying", "completed", "dead"}) {
    EXPECT_EQ(Remove(id, "remove").view().integer(), 1) << id;
    ExpectGone(id);
  }
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"other"}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"active"}));
  EXPECT_TRUE(HasBody("active"));
  EXPECT_TRUE(Exists(q().job_logs("active")));
  EXPECT_EQ(StateOf("active").state, "active");
  EXPECT_TRUE(HasProgress("active"));
  // the hashes hold only the active job now
  EXPECT_EQ(Run({"HLEN", q().state()}).view().integer(), 1);
  EXPECT_EQ(Run({"HLEN", q().progress()}).view().integer(), 1);
  EXPECT_FALSE(Exists(q().results()));
}

TEST_F(RemoveScriptTest, RemovesAJobHandedBackToWaiting) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(1);
  ASSERT_EQ(Eval("release", ReleaseKeys(), {base(), "a", TokenOf(claim, 0)}).view().integer(), 1);
  ASSERT_EQ(StateOf("a").state, "waiting");
  EXPECT_EQ(Remove("a", "cancel").view().integer(), 1);
  ExpectGone("a");
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b"}));
}

TEST_F(RemoveScriptTest, CancelOfActiveJobRequestsStop) {
  std::string token = SeedEveryState();
  double deadline = ZScore(q().active(), "active");
  broker::StateRecord running = StateOf("active");
  EXPECT_FALSE(running.cancel_requested);
  EXPECT_EQ(Remove("active", "cancel").view().integer(), 2);
  // the job keeps running under its lease until its worker stops it: only cx changes
  const broker::StateRecord cancelled = StateOf("active");
  EXPECT_TRUE(cancelled.cancel_requested);
  EXPECT_EQ(cancelled.state, "active");
  EXPECT_EQ(cancelled.token, token);
  running.cancel_requested = true;
  EXPECT_EQ(cancelled, running);
  EXPECT_EQ(ZScore(q().active(), "active"), deadline);
  EXPECT_TRUE(HasBody("active"));
  EXPECT_TRUE(Exists(q().job_logs("active")));
  EXPECT_TRUE(HasProgress("active"));
  auto before = Snapshot();
  EXPECT_EQ(Remove("active", "cancel").view().integer(), 2);  // asking again is harmless
  EXPECT_EQ(Snapshot(), before);
}

// A stop request outlives the lease it was made under: when the job stalls before its worker saw
// the request (recover) or is handed back (release), the next worker is told to stop it as well.
// (Neither recover, release nor claim lists cx among the fields it writes.)
// A cancel requested while a job runs is final: the job is never requeued or retried, whatever
// ends its attempt (regression: a cancel used to be lost when the lease expired first).
TEST_F(RemoveScriptTest, CancelledJobIsNeverRequeuedOrRetried) {
  Enqueue("stalled");
  Enqueue("released");
  Enqueue("failed");
  auto first = Claim(3);
  ASSERT_EQ(ClaimedIds(first), (std::vector<std::string>{"stalled", "released", "failed"}));
  for (const char* id : {"stalled", "released", "failed"}) {
    ASSERT_EQ(Remove(id, "cancel").view().integer(), 2) << id;
  }
  // lease expired before the worker saw the request: dead, not waiting
  Run({"ZADD", q().active(), "XX", std::to_string(Now() - 1), "stalled"});
  EXPECT_EQ(Ints(Eval("recover", RecoverKeys(), {base(), "10", "100", "10", "-1", "0"})),
            (std::vector<long long>{0, 1}));
  EXPECT_EQ(StateOf("stalled").state, "dead");
  EXPECT_NE(List(q().job_errors("stalled")).at(0).find("cancelled"), std::string::npos);
  // a shutting-down worker does not hand it back
  EXPECT_EQ(
      Eval("release", ReleaseKeys(), {base(), "released", TokenOf(first, 1)}).view().integer(), 0);
  EXPECT_EQ(StateOf("released").state, "active");
  // a failed attempt with a retry delay is dead all the same
  auto failed = Eval("fail", FailKeys(),
                     {base(), "1", "10", "-1", "0", "failed", TokenOf(first, 2), "1000",
                      R"({"attempt":1,"message":"stopped"})"});
  EXPECT_EQ(Ints(failed), (std::vector<long long>{3}));
  EXPECT_EQ(StateOf("failed").state, "dead");
  EXPECT_TRUE(List(q().wait()).empty());
  EXPECT_TRUE(ZMembers(q().retry()).empty());
}

TEST_F(RemoveScriptTest, RemoveOfActiveJobIsRefused) {
  SeedEveryState();
  auto before = Snapshot();
  EXPECT_EQ(Remove("active", "remove").view().integer(), -1);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RemoveScriptTest, CancelOfFinishedJobIsRefused) {
  SeedEveryState();
  auto before = Snapshot();
  EXPECT_EQ(Remove("completed", "cancel").view().integer(), -1);
  EXPECT_EQ(Remove("dead", "cancel").view().integer(), -1);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RemoveScriptTest, UnknownJobIsNotFound) {
  SeedEveryState();
  auto before = Snapshot();
  EXPECT_EQ(Remove("ghost", "cancel").view().integer(), 0);
  EXPECT_EQ(Remove("ghost", "remove").view().integer(), 0);
  EXPECT_EQ(Remove("", "remove").view().integer(), 0);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RemoveScriptTest, RejectsInvalidMode) {
  SeedEveryState();
  auto before = Snapshot();
  for (const char* id : {"waiting", "active", "completed"}) {
    EXPECT_TRUE(Remove(id, "delete").view().is_error()) << id;
    EXPECT_TRUE(Remove(id, "").view().is_error()) << id;
    EXPECT_TRUE(Remove(id, "CANCEL").view().is_error()) << id;
  }
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
