#include <cmath>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

class RecoverScriptTest : public ScriptTest {
 protected:
  broker::Reply Recover(std::string max_stalls = "1", std::string limit = "100",
                        std::string max_errors = "10", std::string keep_count = "1000",
                        std::string keep_age = "86400000") {
    return Eval("recover", RecoverKeys(),
                {base(), max_stalls, limit, max_errors, keep_count, keep_age});
  }
  // Moves a lease deadline into the past, as if its worker had stopped extending it.
  void Expire(const std::string& id, long long ago_ms = 1) {
    Run({"ZADD", q().active(), "XX", std::to_string(Now() - ago_ms), id});
  }
};

TEST_F(RecoverScriptTest, RequeuesExpiredLeaseAtHeadOfWaitList) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = Claim(1);
  Expire("a");
  auto wakes = ListenForWakes();
  EXPECT_EQ(Ints(Recover()), (std::vector<long long>{1, 0}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(Exists(q().active()));
  const broker::StateRecord state = StateOf("a");
  EXPECT_EQ(state.state, "waiting");
  EXPECT_EQ(state.token, "");
  EXPECT_EQ(state.stalls, 1);
  EXPECT_EQ(state.attempts, 1);  // the stalled attempt counts
  EXPECT_EQ(state.finished_ms, 0);
  EXPECT_EQ(state.priority, 0);
  EXPECT_EQ(HGet(q().meta(), "stalled"), "1");
  EXPECT_FALSE(Exists(q().job_errors("a")));
  EXPECT_EQ(CountWakes(*wakes), 1);

  auto again = Claim(1);
  EXPECT_EQ(ClaimedIds(again), (std::vector<std::string>{"a"}));
  EXPECT_EQ(AttemptOf(again, 0), 2);  // second attempt
}

TEST_F(RecoverScriptTest, PriorityJobGoesToHeadOfItsPriority) {
  Enqueue("p1a", 1);
  Enqueue("p1b", 1);
  Enqueue("p2", 2);
  Enqueue("n1", -1);
  auto claim = Claim(2);
  ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"n1", "p1a"}));
  Expire("p1a");
  Expire("n1");
  EXPECT_EQ(Ints(Recover()), (std::vector<long long>{2, 0}));
  // a fraction of the first sequence number: ahead of every job queued at the same priority
  for (auto [id, priority] : std::vector<std::pair<std::string, double>>{{"p1a", 1}, {"n1", -1}}) {
    // head offsets are negative; the score still rounds to the priority
    EXPECT_EQ(std::floor(ZScore(q().prioritized(), id) / 4294967296.0 + 0.5), priority) << id;
    EXPECT_EQ(StateOf(id).state, "waiting") << id;
  }
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"n1", "p1a", "p1b", "p2"}));
  EXPECT_FALSE(Exists(q().wait()));
  auto again = Claim(4);
  EXPECT_EQ(ClaimedIds(again), (std::vector<std::string>{"n1", "p1a", "p1b", "p2"}));
  EXPECT_EQ(StateOf("n1").priority, -1);  // the priority survives the head requeue
  EXPECT_EQ(StateOf("p1a").priority, 1);
  EXPECT_EQ(AttemptOf(again, 0), 2);
}

// Jobs requeued by one call keep the order in which their leases expired, at the head.
TEST_F(RecoverScriptTest, RequeuedJobsKeepLeaseExpiryOrderAtTheHead) {
  for (const char* id : {"a", "b", "c", "d"}) Enqueue(id);
  Claim(3);
  Expire("a", 100);
  Expire("b", 300);
  Expire("c", 200);
  EXPECT_EQ(Ints(Recover()), (std::vector<long long>{3, 0}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b", "c", "a", "d"}));
  EXPECT_EQ(ClaimedIds(Claim(4)), (std::vector<std::string>{"b", "c", "a", "d"}));
}

TEST_F(RecoverScriptTest, RequeuedPriorityJobsKeepLeaseExpiryOrderAtTheHead) {
  for (const char* id : {"x", "y", "z", "w"}) Enqueue(id, 3);
  Enqueue("n", -2);
  Enqueue("m", -2);
  Enqueue("v");
  ASSERT_EQ(ClaimedIds(Claim(6)), (std::vector<std::string>{"n", "m", "v", "x", "y", "z"}));
  // expiry order: z, m, v, x, n, y (names chosen so that name order would differ)
  Expire("z", 600);
  Expire("m", 500);
  Expire("v", 400);
  Expire("x", 300);
  Expire("n", 200);
  Expire("y", 100);
  EXPECT_EQ(Ints(Recover()), (std::vector<long long>{6, 0}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"m", "n", "z", "x", "y", "w"}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"v"}));
  EXPECT_EQ(ClaimedIds(Claim(7)), (std::vector<std::string>{"m", "n", "v", "z", "x", "y", "w"}));
}

TEST_F(RecoverScriptTest, LiveLeasesAreLeftAlone) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  Expire("a");
  double b_deadline = ZScore(q().active(), "b");
  auto b_state = StateRecord("b");
  EXPECT_EQ(Ints(Recover()), (std::vector<long long>{1, 0}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ZScore(q().active(), "b"), b_deadline);
  EXPECT_EQ(StateRecord("b"), b_state);
  EXPECT_EQ(StateOf("a").state, "waiting");
}

TEST_F(RecoverScriptTest, NothingExpiredWritesNothing) {
  Enqueue("a");
  Claim(1);
  auto wakes = ListenForWakes();
  auto before = Snapshot();
  EXPECT_EQ(Ints(Recover()), (std::vector<long long>{0, 0}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);
}

TEST_F(RecoverScriptTest, StallsBeyondMaxGoDeadWithLeaseExpiredError) {
  Enqueue("a");
  Claim(1);
  Expire("a");
  EXPECT_EQ(Ints(Recover("1")), (std::vector<long long>{1, 0}));
  Claim(1);
  Expire("a");
  auto wakes = ListenForWakes();
  long long before = Now();
  EXPECT_EQ(Ints(Recover("1")), (std::vector<long long>{0, 1}));
  long long after = Now();
  EXPECT_EQ(StateOf("a").state, "dead");
  EXPECT_EQ(StateOf("a").token, "");
  EXPECT_EQ(StateOf("a").stalls, 2);
  EXPECT_EQ(StateOf("a").attempts, 2);
  long long finished = StateOf("a").finished_ms;
  EXPECT_GE(finished, before);
  EXPECT_LE(finished, after);
  EXPECT_EQ(ZScore(q().dead(), "a"), finished);
  EXPECT_FALSE(Exists(q().wait()));
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(HGet(q().meta(), "stalled"), "2");
  EXPECT_EQ(CountWakes(*wakes), 0);  // nothing was requeued

  auto errors = List(q().job_errors("a"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            R"({"at":)" + std::to_string(finished) +
                R"json(,"attempt":2,"message":"lease expired 2 times (worker died or hung)"})json");
}

TEST_F(RecoverScriptTest, MaxStallsZeroSendsTheFirstStallToDead) {
  Enqueue("a");
  Claim(1);
  Expire("a");
  EXPECT_EQ(Ints(Recover("0")), (std::vector<long long>{0, 1}));
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(StateOf("a").state, "dead");
  EXPECT_EQ(StateOf("a").stalls, 1);
}

TEST_F(RecoverScriptTest, LeaseExpiredErrorIsTrimmedToMaxErrors) {
  Enqueue("a");
  Run({"RPUSH", q().job_errors("a"), R"({"message":"e2"})", R"({"message":"e1"})"});
  Claim(1);
  Expire("a");
  EXPECT_EQ(Ints(Recover("0", "100", "2")), (std::vector<long long>{0, 1}));
  auto errors = List(q().job_errors("a"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("lease expired 1 times"), std::string::npos) << errors[0];
  EXPECT_EQ(errors[1], R"({"message":"e2"})");
}

TEST_F(RecoverScriptTest, DeadRetentionApplies) {
  Enqueue("old");
  Enqueue("a");
  auto claim = Claim(2);
  FailJob("old", TokenOf(claim, 0), -1);
  Expire("a");
  EXPECT_EQ(Ints(Recover("0", "100", "10", "0", "0")), (std::vector<long long>{0, 1}));
  EXPECT_FALSE(Exists(q().dead()));
  ExpectNoTrace("old");
  ExpectNoTrace("a");
}

TEST_F(RecoverScriptTest, LimitBoundsOneCallOldestDeadlinesFirst) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  Claim(3);
  Expire("a", 100);
  Expire("b", 300);
  Expire("c", 200);
  EXPECT_EQ(Ints(Recover("1", "2")), (std::vector<long long>{2, 0}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Ints(Recover("1", "2")), (std::vector<long long>{1, 0}));
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(HGet(q().meta(), "stalled"), "3");
}

TEST_F(RecoverScriptTest, LateCompleteOrFailAfterRecoveryIsRejected) {
  Enqueue("a");
  auto first = Claim(1);
  Expire("a");
  Recover();
  auto before = Snapshot();
  auto late =
      Eval("complete", CompleteKeys(), {base(), "1", "-1", "0", "a", TokenOf(first, 0), "1"});
  EXPECT_EQ(Ints(late), (std::vector<long long>{0}));
  auto late_fail =
      Eval("fail", FailKeys(),
           {base(), "1", "10", "-1", "0", "a", TokenOf(first, 0), "-1", R"({"message":"late"})"});
  EXPECT_EQ(Ints(late_fail), (std::vector<long long>{0}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(StateOf("a").state, "waiting");
  EXPECT_FALSE(HasResult("a"));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().completed()));
  EXPECT_FALSE(Exists(q().dead()));

  // the next holder's token works; the old one still does not
  auto second = Claim(1);
  late = Eval("complete", CompleteKeys(), {base(), "1", "-1", "0", "a", TokenOf(first, 0), "1"});
  EXPECT_EQ(Ints(late), (std::vector<long long>{0}));
  EXPECT_FALSE(HasResult("a"));
  CompleteJob("a", TokenOf(second, 0), "2");
  EXPECT_EQ(ResultOf("a"), "2");
}

TEST_F(RecoverScriptTest, RejectsBadArguments) {
  Enqueue("a");
  Claim(1);
  Expire("a");
  auto before = Snapshot();
  const std::vector<std::vector<std::string>> bad = {
      {"x", "100", "10", "1000", "0"},  {"1", "0", "10", "1000", "0"},
      {"1", "1001", "10", "1000", "0"}, {"1", "x", "10", "1000", "0"},
      {"1", "100", "x", "1000", "0"},   {"1", "100", "10", "x", "0"},
      {"1", "100", "10", "1000", "x"},
  };
  for (const auto& args : bad) {
    EXPECT_TRUE(Recover(args[0], args[1], args[2], args[3], args[4]).view().is_error())
        << args[0] << " " << args[1] << " " << args[2] << " " << args[3] << " " << args[4];
  }
  EXPECT_EQ(Snapshot(), before);
}

// Regression: a negative max_stalls was accepted (every recovered job went dead at once).
TEST_F(RecoverScriptTest, RejectsBadArgumentsBeforeAnyWrite) {
  Enqueue("a");
  auto claim = Claim(1);
  Expire("a");
  auto before = Snapshot();
  for (const auto& stalls : {"-1", "x", "1.5"}) {
    EXPECT_TRUE(Recover(stalls).view().is_error()) << stalls;
  }
  EXPECT_TRUE(Recover("1", "0").view().is_error());
  EXPECT_TRUE(Recover("1", "1001").view().is_error());
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Ints(Recover("0")), (std::vector<long long>{0, 1}));  // 0 is valid: no stall allowed
}

}  // namespace
}  // namespace taskq::testing
