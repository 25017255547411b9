#include "script_fixture.h"

namespace taskq::testing {
namespace {

class RetryDeadScriptTest : public ScriptTest {
 protected:
  broker::Reply RetryDead(std::string limit, const std::vector<std::string>& ids = {}) {
    std::vector<std::string> args = {base(), limit};
    args.insert(args.end(), ids.begin(), ids.end());
    return Eval("retry_dead", RetryDeadKeys(), args);
  }
  // Sends every waiting job to dead through claim and fail, in the given order, with finish times
  // 1000 ms apart so that "oldest" is well defined.
  void KillAll(const std::vector<std::string>& ids) {
    auto claim = Claim(static_cast<int>(ids.size()));
    auto claimed = ClaimedIds(claim);
    ASSERT_EQ(claimed.size(), ids.size());
    std::map<std::string, std::string> tokens;
    for (size_t i = 0; i < claimed.size(); ++i) tokens[claimed[i]] = TokenOf(claim, i);
    long long finished = Now() - 100000;
    for (size_t i = 0; i < ids.size(); ++i) {
      FailJob(ids[i], tokens[ids[i]], -1);
      Run({"ZADD", q().dead(), "XX", std::to_string(finished + 1000 * i), ids[i]});
    }
  }
};

TEST_F(RetryDeadScriptTest, GivenIdsGoBackToWaitingWithFreshAttempts) {
  Enqueue("a");
  Enqueue("b", 4);
  Enqueue("c");
  KillAll({"a", "c", "b"});
  PatchState("a", {{"s", "3"}, {"cx", "1"}});  // stalled and cancelled before
  ASSERT_NE(StateOf("a").finished_ms, 0);      // dead: finished
  Enqueue("w");
  auto wakes = ListenForWakes();
  auto reply = RetryDead("1000", {"a", "b", "w", "ghost"});
  EXPECT_EQ(reply.view().integer(), 2);
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"c"}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"w", "a"}));  // tail; "w" not moved
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"b"}));
  double score = ZScore(q().prioritized(), "b");
  EXPECT_GT(score, 4 * 4294967296.0);
  EXPECT_LT(score, 5 * 4294967296.0);
  const broker::StateRecord state = StateOf("a");
  EXPECT_EQ(state.state, "waiting");
  EXPECT_EQ(state.attempts, 0);
  EXPECT_EQ(state.stalls, 0);
  EXPECT_EQ(state.token, "");
  EXPECT_EQ(state.finished_ms, 0);
  EXPECT_FALSE(state.cancel_requested);
  EXPECT_EQ(state.priority, 0);
  EXPECT_EQ(StateOf("b").state, "waiting");
  EXPECT_EQ(StateOf("b").priority, 4);
  EXPECT_EQ(List(q().job_errors("a")).size(), 1u);  // the history is kept
  EXPECT_EQ(StateOf("c").state, "dead");
  EXPECT_FALSE(HasState("w"));
  EXPECT_FALSE(HasState("ghost"));
  EXPECT_EQ(CountWakes(*wakes), 1);

  auto claim = Claim(1);
  EXPECT_EQ(ClaimedIds(claim), (std::vector<std::string>{"w"}));
  claim = Claim(1);
  EXPECT_EQ(ClaimedIds(claim), (std::vector<std::string>{"a"}));
  EXPECT_EQ(AttemptOf(claim, 0), 1);   // a fresh first attempt
  EXPECT_TRUE(RestartedOf(claim, 0));  // but not a first start: its wait was counted then
  claim = Claim(1);
  EXPECT_EQ(ClaimedIds(claim), (std::vector<std::string>{"b"}));
  EXPECT_EQ(AttemptOf(claim, 0), 1);
  EXPECT_EQ(StateOf("b").priority, 4);
}

TEST_F(RetryDeadScriptTest, WithoutIdsMovesTheOldestUpToLimit) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  KillAll({"b", "c", "a"});  // "b" died first
  EXPECT_EQ(RetryDead("2").view().integer(), 2);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(StateOf("a").state, "dead");
  EXPECT_EQ(RetryDead("2").view().integer(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_FALSE(Exists(q().dead()));
  for (const char* id : {"a", "b", "c"}) EXPECT_EQ(StateOf(id).state, "waiting") << id;
}

// Regression: membership was checked with ZSCORE before one ZREM of all ids, so an id given twice
// was queued twice (and claimed by two workers at once).
TEST_F(RetryDeadScriptTest, DuplicateIdIsMovedOnce) {
  Enqueue("a");
  Enqueue("p", 2);
  KillAll({"a", "p"});
  EXPECT_EQ(RetryDead("10", {"a", "a", "p", "p"}).view().integer(), 2);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"p"}));
  // each is claimed by one worker only
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"a", "p"}));
  EXPECT_EQ(CountOf(Claim(10)), 0);
}

TEST_F(RetryDeadScriptTest, NothingDeadChangesNothing) {
  Enqueue("active");
  Enqueue("completed");
  auto claim = Claim(2);
  CompleteJob("completed", TokenOf(claim, 1));
  Enqueue("waiting");
  auto wakes = ListenForWakes();
  auto before = Snapshot();
  EXPECT_EQ(RetryDead("10").view().integer(), 0);
  EXPECT_EQ(RetryDead("10", {"active", "completed", "waiting", "ghost"}).view().integer(), 0);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);
}

TEST_F(RetryDeadScriptTest, RejectsBadLimit) {
  Enqueue("a");
  KillAll({"a"});
  auto before = Snapshot();
  for (const char* limit : {"0", "1001", "-1", "x", ""}) {
    EXPECT_TRUE(RetryDead(limit).view().is_error()) << limit;
    EXPECT_TRUE(RetryDead(limit, {"a"}).view().is_error()) << limit;
  }
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
