#include "script_fixture.h"

namespace taskq::testing {
namespace {

using ClaimScriptTest = ScriptTest;

TEST_F(ClaimScriptTest, ClaimsInPriorityOrderFifoWithinPriority) {
  Enqueue("w1");
  Enqueue("p5", 5);
  Enqueue("w2");
  Enqueue("n3", -3);
  Enqueue("p1", 1);
  Enqueue("n3b", -3);
  auto reply = Claim(10);
  EXPECT_EQ(ClaimedIds(reply), (std::vector<std::string>{"n3", "n3b", "w1", "w2", "p1", "p5"}));
  EXPECT_EQ(PausedOf(reply), 0);  // not paused
  EXPECT_EQ(MoreOf(reply), 0);    // fewer than n claimed
  EXPECT_TRUE(List(q().wait()).empty());
  EXPECT_TRUE(ZMembers(q().prioritized()).empty());
  EXPECT_EQ(ZMembers(q().active()).size(), 6u);
  // each record remembers the priority, for a requeue
  const std::map<std::string, int64_t> priorities = {{"n3", -3}, {"n3b", -3}, {"w1", 0},
                                                     {"w2", 0},  {"p1", 1},   {"p5", 5}};
  for (const auto& [id, priority] : priorities) {
    EXPECT_EQ(StateOf(id).priority, priority) << id;
    EXPECT_EQ(StateOf(id).state, "active") << id;
  }
}

TEST_F(ClaimScriptTest, SetsLeaseTokenAttemptAndReturnsBody) {
  Enqueue("a");
  long long before = Now();
  auto reply = Claim(1, 5000);
  long long after = Now();
  ASSERT_EQ(CountOf(reply), 1);
  EXPECT_EQ(TokenOf(reply, 0), StateOf("a").token);  // the claim's token
  EXPECT_EQ(ClaimedIds(reply)[0], "a");
  EXPECT_TRUE(ClaimedBodyOf(reply, 0).ends_with(R"("t":"email","d":{}})"));
  EXPECT_EQ(AttemptOf(reply, 0), 1);  // attempt
  std::string token = TokenOf(reply, 0);
  EXPECT_GT(TokenValue(token), 0);
  const broker::StateRecord state = StateOf("a");
  EXPECT_EQ(state.state, "active");
  EXPECT_EQ(state.attempts, 1);
  EXPECT_EQ(state.stalls, 0);
  EXPECT_EQ(state.token, token);
  EXPECT_EQ(state.finished_ms, 0);
  EXPECT_EQ(state.priority, 0);
  EXPECT_FALSE(state.cancel_requested);
  EXPECT_GE(state.started_ms, before);
  EXPECT_LE(state.started_ms, after);
  EXPECT_GE(ZScore(q().active(), "a"), before + 5000);
  EXPECT_LE(ZScore(q().active(), "a"), after + 5000);
}

// Each job of one claim gets a record holding the token it was handed (one token per job or one
// for the whole claim: either way, the record and the reply agree).
TEST_F(ClaimScriptTest, EachJobOfABatchGetsARecordWithItsToken) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto reply = Claim(3);
  ASSERT_EQ(ClaimedIds(reply), (std::vector<std::string>{"a", "b", "c"}));
  for (size_t i = 0; i < 3; ++i) {
    std::string id = ClaimedIds(reply)[i];
    EXPECT_EQ(StateOf(id).token, TokenOf(reply, i)) << id;
    EXPECT_EQ(AttemptOf(reply, i), 1) << id;
    EXPECT_TRUE(ClaimedBodyOf(reply, i).ends_with(R"("t":"email","d":{}})"));
  }
}

// Tokens only grow from one claim to the next (jobs of one claim may share a token).
TEST_F(ClaimScriptTest, TokensOnlyGrow) {
  for (const char* id : {"a", "b", "c", "d"}) Enqueue(id);
  auto first = Claim(1);
  auto second = Claim(2);
  auto third = Claim(1);
  long long first_token = TokenValue(TokenOf(first, 0));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_LT(first_token, TokenValue(TokenOf(second, i))) << i;
    EXPECT_LT(TokenValue(TokenOf(second, i)), TokenValue(TokenOf(third, 0))) << i;
  }
  // a job claimed again gets a newer token than any it had
  std::string old = TokenOf(third, 0);
  Eval("release", ReleaseKeys(), {base(), "d", old});
  auto again = Claim(1);
  ASSERT_EQ(ClaimedIds(again), (std::vector<std::string>{"d"}));
  EXPECT_LT(TokenValue(old), TokenValue(TokenOf(again, 0)));
  EXPECT_EQ(StateOf("d").token, TokenOf(again, 0));
}

// more = 1 means all n were claimed: claim again without waiting for a wake.
TEST_F(ClaimScriptTest, ReportsMoreWhenAllRequestedWereClaimed) {
  Enqueue("a");
  Enqueue("b");
  Enqueue("c");
  auto reply = Claim(1);
  EXPECT_EQ(MoreOf(reply), 1);
  EXPECT_EQ(NextDueOf(reply), -1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b", "c"}));
  reply = Claim(2);  // exactly what was left: still "more"
  EXPECT_EQ(CountOf(reply), 2);
  EXPECT_EQ(MoreOf(reply), 1);
  EXPECT_EQ(NextDueOf(reply), -1);
  reply = Claim(2);  // nothing left
  EXPECT_EQ(CountOf(reply), 0);
  EXPECT_EQ(MoreOf(reply), 0);
  Enqueue("d");
  reply = Claim(2);  // fewer than n
  EXPECT_EQ(CountOf(reply), 1);
  EXPECT_EQ(MoreOf(reply), 0);
}

TEST_F(ClaimScriptTest, PausedQueueHandsOutNothing) {
  Enqueue("a");
  Run({"HSET", q().meta(), "paused", "1"});
  auto before = Snapshot();
  auto reply = Claim(5);
  EXPECT_EQ(PausedOf(reply), 1);
  EXPECT_EQ(MoreOf(reply), 0);
  EXPECT_EQ(CountOf(reply), 0);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ClaimScriptTest, PromotesDueDelayedAndRetryJobsAndReportsNextDue) {
  Enqueue("later", 0, 60000);
  long long now = Now();
  SeedBody("due", R"({"c":1,"t":"x","d":{}})");
  Run({"ZADD", q().delayed(), std::to_string(now - 10), "due"});
  // a delayed job with a priority carries it in its record
  SeedBody("dueprio", R"({"c":1,"t":"x","d":{}})");
  SeedState("dueprio", {{"st", "delayed"}, {"p", "-1"}});
  Run({"ZADD", q().delayed(), std::to_string(now - 20), "dueprio"});
  SeedBody("retried", R"({"c":1,"t":"x","d":{}})");
  SeedState("retried", {{"st", "retrying"}, {"a", "1"}, {"s", "1"}, {"p", "2"}});
  Run({"ZADD", q().retry(), std::to_string(now - 5), "retried"});
  auto reply = Claim(10);
  EXPECT_EQ(ClaimedIds(reply), (std::vector<std::string>{"dueprio", "due", "retried"}));
  EXPECT_EQ(AttemptOf(reply, 0), 1);
  EXPECT_EQ(AttemptOf(reply, 2), 2);  // second attempt of the retried job
  EXPECT_FALSE(RestartedOf(reply, 0));
  EXPECT_FALSE(RestartedOf(reply, 2));
  long long next_due = NextDueOf(reply);
  EXPECT_GT(next_due, 55000);
  EXPECT_LE(next_due, 60001);  // due counts from now rounded up to whole ms
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"later"}));
  EXPECT_FALSE(Exists(q().retry()));
  EXPECT_EQ(StateOf("dueprio").state, "active");
  EXPECT_EQ(StateOf("dueprio").priority, -1);
  EXPECT_EQ(StateOf("retried").state, "active");
  EXPECT_EQ(StateOf("retried").attempts, 2);
  EXPECT_EQ(StateOf("retried").stalls, 1);  // stalls are kept
  EXPECT_EQ(StateOf("retried").priority, 2);
  EXPECT_FALSE(HasState("later"));
}

TEST_F(ClaimScriptTest, PromotedJobsWaitBehindQueuedOnesWhenNotClaimed) {
  Enqueue("w");
  Enqueue("p", 2);
  long long now = Now();
  SeedBody("due", R"({"c":1,"t":"x","d":{}})");
  Run({"ZADD", q().delayed(), std::to_string(now - 10), "due"});
  SeedBody("retried", R"({"c":1,"t":"x","d":{}})");
  SeedState("retried", {{"st", "retrying"}, {"a", "1"}, {"p", "2"}});
  Run({"ZADD", q().retry(), std::to_string(now - 5), "retried"});
  auto reply = Claim(1);
  EXPECT_EQ(ClaimedIds(reply), (std::vector<std::string>{"w"}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"due"}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"p", "retried"}));
  EXPECT_EQ(StateOf("retried").state, "waiting");
  EXPECT_FALSE(HasState("due"));
}

TEST_F(ClaimScriptTest, EmptyQueueReportsNoNextDue) {
  auto reply = Claim(3);
  EXPECT_EQ(CountOf(reply), 0);
  EXPECT_EQ(NextDueOf(reply), -1);
  EXPECT_EQ(MoreOf(reply), 0);
  EXPECT_TRUE(AllKeys().empty());
}

TEST_F(ClaimScriptTest, MissingBodyComesBackEmpty) {
  Run({"RPUSH", q().wait(), "ghost"});
  auto reply = Claim(1);
  ASSERT_EQ(CountOf(reply), 1);
  EXPECT_EQ(ClaimedIds(reply)[0], "ghost");
  EXPECT_EQ(ClaimedBodyOf(reply, 0), "");
  EXPECT_EQ(StateOf("ghost").state, "active");
}

// Regression: a negative promote limit was taken as "no limit" (ZRANGEBYSCORE ... LIMIT 0 -1):
// one claim moved every due job, however many.
TEST_F(ClaimScriptTest, RejectsBadArguments) {
  Enqueue("a");
  Enqueue("d", 0, 1);  // a delayed job, due at once: a promotion would write
  Run({"ZADD", q().delayed(), "1", "d"});
  auto before = Snapshot();
  for (const auto& args : std::vector<std::vector<std::string>>{{base(), "0", "1000", "10"},
                                                                {base(), "1001", "1000", "10"},
                                                                {base(), "1", "0", "10"},
                                                                {base(), "x", "1000", "10"},
                                                                {base(), "1", "x", "10"},
                                                                {base(), "1", "1000", "x"},
                                                                {base(), "1", "1000", "0"},
                                                                {base(), "1", "1000", "-1"},
                                                                {base(), "1", "1000", "1001"},
                                                                {base(), "1", "1000", "2.5"}}) {
    auto reply = Eval("claim", ClaimKeys(), args);
    EXPECT_TRUE(reply.view().is_error()) << args[1] << " " << args[2] << " " << args[3];
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"d"}));
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_FALSE(HasState("a"));
}

// Regression: the tail offset was (seq + k + 1) mod 2^31: after 2^31 scored requeues new jobs
// sorted ahead of older ones of their priority. Offsets are renumbered instead of wrapping.
TEST_F(ClaimScriptTest, FifoWithinAPriorityHoldsWhenTheSequenceReachesItsBound) {
  Run({"HSET", q().meta(), "seq", "2147483640"});
  std::vector<std::string> order;
  for (int i = 0; i < 20; ++i) {
    order.push_back("p" + std::to_string(i));
    Enqueue(order.back(), 5);
  }
  Enqueue("n1", -1);  // other priorities keep their place
  Enqueue("p7b", 7);
  EXPECT_LT(std::stoll(HGet(q().meta(), "seq")), 100);  // renumbered, not wrapped
  auto reply = Claim(100);
  std::vector<std::string> expected = {"n1"};
  expected.insert(expected.end(), order.begin(), order.end());
  expected.push_back("p7b");
  EXPECT_EQ(ClaimedIds(reply), expected);
  for (const auto& id : {"p0", "p19", "p7b", "n1"}) {
    EXPECT_EQ(StateOf(id).priority, id[0] == 'n' ? -1 : (std::string(id) == "p7b" ? 7 : 5));
  }
}

TEST_F(ClaimScriptTest, GroupsKeepFifoWhenTheSequenceReachesItsBound) {
  Run({"HSET", q().meta(), "seq", "2147483643"});
  for (int i = 0; i < 10; ++i) Enqueue("g" + std::to_string(i), 0, 0, "tenant");
  std::vector<std::string> claimed;
  for (int i = 0; i < 10; ++i) {
    auto ids = ClaimedIds(Claim(1));
    claimed.insert(claimed.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(claimed,
            (std::vector<std::string>{"g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9"}));
}

// Head requeues (release, recover) count down from hseq: past its bound the order holds too.
TEST_F(ClaimScriptTest, HeadRequeuesKeepTheirOrderWhenTheHeadSequenceReachesItsBound) {
  Enqueue("tail", 3);
  for (const auto& id : {"a", "b", "c"}) Enqueue(id, 3);
  auto claim = ClaimedIds(Claim(1));  // "tail"
  ASSERT_EQ(claim, (std::vector<std::string>{"tail"}));
  Run({"HSET", q().meta(), "hseq", "2147483646"});
  auto first = Claim(2);  // a, b
  auto reply = Eval("release", ReleaseKeys(), {base(), "a", TokenOf(first, 0)});
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  reply = Eval("release", ReleaseKeys(), {base(), "b", TokenOf(first, 1)});
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  // b was handed back last, so it is first; then a; then c, which never left
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"b", "a", "c"}));
}

// Regression: tokens came from HINCRBY meta.fence alone, so a replica promoted after missing the
// last claims handed out a token again, and a stale worker's result was accepted.
TEST_F(ClaimScriptTest, TokensStayNewAfterAFailoverToAReplicaThatMissedClaims) {
  Enqueue("a");
  Enqueue("b");
  auto first = Claim(1);
  const long long old_token = TokenValue(TokenOf(first, 0));
  // The promoted replica's meta: it never saw that claim (its fence is behind).
  Run({"HSET", q().meta(), "fence", "0"});
  auto second = Claim(1);
  EXPECT_GT(TokenValue(TokenOf(second, 0)), old_token);
  EXPECT_EQ(StateOf("b").token, TokenOf(second, 0));
  EXPECT_EQ(std::stoll(HGet(q().meta(), "fence")), TokenValue(TokenOf(second, 0)));
}

}  // namespace
}  // namespace taskq::testing
