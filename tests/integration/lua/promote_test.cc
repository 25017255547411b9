#include "script_fixture.h"

namespace taskq::testing {
namespace {

class PromoteScriptTest : public ScriptTest {
 protected:
  broker::Reply Promote(const std::string& id) {
    return Eval("promote", PromoteKeys(), {base(), id});
  }
};

TEST_F(PromoteScriptTest, DelayedJobGoesToTailOfWaitList) {
  Enqueue("w");
  Enqueue("d", 0, 60000);
  auto wakes = ListenForWakes();
  EXPECT_EQ(Promote("d").view().integer(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"w", "d"}));
  EXPECT_FALSE(Exists(q().delayed()));
  EXPECT_FALSE(HasState("d"));  // still never claimed: no state record
  EXPECT_EQ(CountWakes(*wakes), 1);
  EXPECT_EQ(ClaimedIds(Claim(2)), (std::vector<std::string>{"w", "d"}));
}

TEST_F(PromoteScriptTest, DelayedPriorityJobQueuesAfterItsPeers) {
  Enqueue("p2", 2);
  Enqueue("d", 2, 60000);
  Enqueue("p3", 3);
  EXPECT_EQ(Promote("d").view().integer(), 1);
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"p2", "d", "p3"}));
  EXPECT_GT(ZScore(q().prioritized(), "d"), ZScore(q().prioritized(), "p2"));
  EXPECT_LT(ZScore(q().prioritized(), "d"), 3 * 4294967296.0);
  EXPECT_FALSE(Exists(q().wait()));
  EXPECT_FALSE(Exists(q().delayed()));
  EXPECT_EQ(StateOf("d").state, "waiting");
  EXPECT_EQ(StateOf("d").priority, 2);
  EXPECT_EQ(ClaimedIds(Claim(3)), (std::vector<std::string>{"p2", "d", "p3"}));
  EXPECT_EQ(StateOf("d").priority, 2);
}

TEST_F(PromoteScriptTest, RetryingJobBecomesWaiting) {
  Enqueue("a");
  auto claim = Claim(1);
  FailJob("a", TokenOf(claim, 0), 60000);
  auto wakes = ListenForWakes();
  broker::StateRecord failed = StateOf("a");
  EXPECT_EQ(Promote("a").view().integer(), 1);
  const broker::StateRecord promoted = StateOf("a");
  EXPECT_EQ(promoted.state, "waiting");
  failed.state = "waiting";
  EXPECT_EQ(promoted, failed);  // only the state name changes
  EXPECT_FALSE(Exists(q().retry()));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(List(q().job_errors("a")).size(), 1u);  // the history stays
  EXPECT_EQ(CountWakes(*wakes), 1);
  auto again = Claim(1);
  EXPECT_EQ(ClaimedIds(again), (std::vector<std::string>{"a"}));
  EXPECT_EQ(AttemptOf(again, 0), 2);
}

TEST_F(PromoteScriptTest, RetryingPriorityJobGoesToPrioZset) {
  Enqueue("a", -4);
  auto claim = Claim(1);
  FailJob("a", TokenOf(claim, 0), 60000);
  EXPECT_EQ(Promote("a").view().integer(), 1);
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"a"}));
  double score = ZScore(q().prioritized(), "a");
  EXPECT_GE(score, -4 * 4294967296.0);
  EXPECT_LT(score, -3 * 4294967296.0);
  EXPECT_FALSE(Exists(q().wait()));
  EXPECT_EQ(StateOf("a").state, "waiting");
  EXPECT_EQ(StateOf("a").priority, -4);
}

TEST_F(PromoteScriptTest, OtherStatesAreNotPromoted) {
  Enqueue("active");
  Enqueue("completed");
  Enqueue("dead");
  auto claim = Claim(3);
  CompleteJob("completed", TokenOf(claim, 1));
  FailJob("dead", TokenOf(claim, 2), -1);
  Enqueue("waiting");
  Enqueue("prioritized", 3);

  auto wakes = ListenForWakes();
  auto before = Snapshot();
  for (const char* id : {"waiting", "prioritized", "active", "completed", "dead", "ghost"}) {
    EXPECT_EQ(Promote(id).view().integer(), 0) << id;
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);
}

}  // namespace
}  // namespace taskq::testing
