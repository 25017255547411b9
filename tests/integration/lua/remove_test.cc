#include "script_fixture.h"

namespace taskq::testing {
namespace {

class RemoveScriptTest : public ScriptTest {
 protected:
  broker::Reply Remove(const std::string& id, const std::string& mode) {
    return Eval("remove",
                {q().wait(), q().prioritized(), q().delayed(), q().retry(), q().active(),
                 q().completed(), q().dead()},
                {base(), id, mode});
  }
  // One job in each state (named after it), each with a log line so that every per-job key
  // exists, plus "other", waiting after "waiting". Returns the active job's token.
  std::string SeedEveryState() {
    for (const char* id : {"active", "completed", "dead", "retrying"}) Enqueue(id);
    auto claim = Claim(4);
    CompleteJob("completed", TokenOf(claim, 1));
    FailJob("dead", TokenOf(claim, 2), -1);
    FailJob("retrying", TokenOf(claim, 3), 60000);
    Enqueue("waiting");
    Enqueue("other");
    Enqueue("prioritized", 7);
    Enqueue("delayed", 0, 60000);
    for (const char* id :
         {"active", "completed", "dead", "retrying", "waiting", "prioritized", "delayed"}) {
      Run({"RPUSH", q().job_logs(id), "line"});
    }
    return TokenOf(claim, 0);
  }
  void ExpectGone(const std::string& id) {
    for (const auto& key : {q().job(id), q().job_state(id), q().job_errors(id), q().job_logs(id)}) {
      EXPECT_FALSE(Exists(key)) << key;
    }
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
  for (const char* id : {"waiting", "prioritized", "delayed", "retrying"}) {
    EXPECT_EQ(Remove(id, "cancel").view().integer(), 1) << id;
    ExpectGone(id);
  }
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"other"}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"active"}));
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"completed"}));
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"dead"}));
  EXPECT_TRUE(Exists(q().job("other")));
}

TEST_F(RemoveScriptTest, RemoveDeletesEveryJobNotRunning) {
  SeedEveryState();
  for (const char* id : {"waiting", "prioritized", "delayed", "retrying", "completed", "dead"}) {
    EXPECT_EQ(Remove(id, "remove").view().integer(), 1) << id;
    ExpectGone(id);
  }
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"other"}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"active"}));
  EXPECT_TRUE(Exists(q().job("active")));
  EXPECT_TRUE(Exists(q().job_logs("active")));
}

TEST_F(RemoveScriptTest, RemovesAJobHandedBackToWaiting) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(1);
  Eval("release", {q().active(), q().wait(), q().prioritized()}, {base(), "a", TokenOf(claim, 0)});
  ASSERT_EQ(HGet(q().job_state("a"), "st"), "waiting");
  EXPECT_EQ(Remove("a", "cancel").view().integer(), 1);
  ExpectGone("a");
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b"}));
}

TEST_F(RemoveScriptTest, CancelOfActiveJobRequestsStop) {
  std::string token = SeedEveryState();
  double deadline = ZScore(q().active(), "active");
  EXPECT_EQ(Remove("active", "cancel").view().integer(), 2);
  EXPECT_EQ(HGet(q().job_state("active"), "cx"), "1");
  // the job keeps running under its lease until its worker stops it
  EXPECT_EQ(HGet(q().job_state("active"), "st"), "active");
  EXPECT_EQ(HGet(q().job_state("active"), "tk"), token);
  EXPECT_EQ(ZScore(q().active(), "active"), deadline);
  EXPECT_TRUE(Exists(q().job("active")));
  EXPECT_TRUE(Exists(q().job_logs("active")));
  auto before = Snapshot();
  EXPECT_EQ(Remove("active", "cancel").view().integer(), 2);  // asking again is harmless
  EXPECT_EQ(Snapshot(), before);
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
