#include "script_fixture.h"

namespace taskq::testing {
namespace {

class PostponeScriptTest : public ScriptTest {
 protected:
  struct Postponement {
    std::string id;
    std::string token;
    std::string delay_ms;
    std::string log_line;
  };
  broker::Reply Postpone(const std::vector<Postponement>& postponements,
                         std::string max_log_lines = "100") {
    std::vector<std::string> args = {base(), std::to_string(postponements.size()), max_log_lines};
    for (const auto& p : postponements)
      args.insert(args.end(), {p.id, p.token, p.delay_ms, p.log_line});
    return Eval("postpone", PostponeKeys(), args);
  }
};

TEST_F(PostponeScriptTest, WaitsInDelayedWithoutCountingTheAttempt) {
  Enqueue("a");
  auto claim = Claim(1);
  ASSERT_EQ(AttemptOf(claim, 0), 1);
  auto wakes = ListenForWakes();
  const long long before = Now();
  auto reply = Postpone({{"a", TokenOf(claim, 0), "5000", "rate limited; runs again in 5000 ms"}});
  const long long after = Now();
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1}));
  const broker::StateRecord state = StateOf("a");
  EXPECT_EQ(state.state, "delayed");
  EXPECT_EQ(state.attempts, 0);  // the claim's increment is taken back
  EXPECT_EQ(state.token, "");
  EXPECT_EQ(state.finished_ms, 0);
  EXPECT_GE(ZScore(q().delayed(), "a"), before + 5000);
  EXPECT_LE(ZScore(q().delayed(), "a"),
            after + 5000 + 1);  // due counts from now rounded up to whole ms
  EXPECT_TRUE(ZMembers(q().active()).empty());
  EXPECT_FALSE(Exists(q().retry()));
  // Not a failure: no error recorded, nothing counted as failed.
  EXPECT_FALSE(Exists(q().job_errors("a")));
  EXPECT_FALSE(HExists(q().meta(), "failed"));
  EXPECT_EQ(List(q().job_logs("a")),
            (std::vector<std::string>{"rate limited; runs again in 5000 ms"}));
  EXPECT_EQ(CountWakes(*wakes), 1);  // idle workers re-arm their timers for the due time

  // Not due yet: nothing to claim.
  EXPECT_TRUE(ClaimedIds(Claim(1)).empty());
}

TEST_F(PostponeScriptTest, DueJobRunsAgainAsTheSameAttempt) {
  Enqueue("a", -3);
  auto first = Claim(1);
  ASSERT_EQ(Ints(Postpone({{"a", TokenOf(first, 0), "0", ""}})), (std::vector<long long>{1}));
  EXPECT_FALSE(Exists(q().job_logs("a")));  // an empty line is not logged
  auto second = Claim(1);                   // promotes the due job, then claims it
  ASSERT_EQ(ClaimedIds(second), (std::vector<std::string>{"a"}));
  EXPECT_EQ(AttemptOf(second, 0), 1);
  EXPECT_TRUE(RestartedOf(second, 0));  // its wait was counted at the first start
  EXPECT_FALSE(RestartedOf(first, 0));
  EXPECT_EQ(StateOf("a").priority, -3);  // its priority survives the wait
  // And again: postponing never consumes attempts, however often.
  ASSERT_EQ(Ints(Postpone({{"a", TokenOf(second, 0), "0", ""}})), (std::vector<long long>{1}));
  EXPECT_EQ(AttemptOf(Claim(1), 0), 1);
}

TEST_F(PostponeScriptTest, StaleTokenChangesNothing) {
  Enqueue("a");
  auto claim = Claim(1);
  auto before = Snapshot();
  auto reply = Postpone({{"a", StaleToken(TokenOf(claim, 0)), "1000", "late"},
                         {"missing", TokenOf(claim, 0), "1000", "late"}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0, 0}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(PostponeScriptTest, RepeatedIdInOneBatchIsPostponedOnce) {
  Enqueue("a");
  auto claim = Claim(1);
  auto reply =
      Postpone({{"a", TokenOf(claim, 0), "1000", "one"}, {"a", TokenOf(claim, 0), "9000", "two"}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 0}));
  EXPECT_EQ(StateOf("a").attempts, 0);
  EXPECT_EQ(List(q().job_logs("a")), (std::vector<std::string>{"one"}));
}

// As with release: a job whose cancel was requested is not handed back to run again.
TEST_F(PostponeScriptTest, CancelRequestedJobIsNotPostponed) {
  Enqueue("a");
  auto claim = Claim(1);
  PatchState("a", {{"cx", "1"}});
  auto before = Snapshot();
  EXPECT_EQ(Ints(Postpone({{"a", TokenOf(claim, 0), "1000", ""}})), (std::vector<long long>{0}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(PostponeScriptTest, LogIsTrimmedToTheNewestLines) {
  Enqueue("a");
  for (const char* line : {"one", "two", "three"}) {
    auto claim = Claim(1);
    ASSERT_EQ(Ints(Postpone({{"a", TokenOf(claim, 0), "0", line}}, "2")),
              (std::vector<long long>{1}));
  }
  EXPECT_EQ(List(q().job_logs("a")), (std::vector<std::string>{"two", "three"}));
  // Listed, so that deleting the job deletes its log (job_lists.lua).
  EXPECT_EQ(Run({"SISMEMBER", q().with_lists(), "a"}).view().AsInt(), 1);
}

// A worker without a handler for the job's type hands it back: no attempt, no stall, due in 1 s
// doubled per hand-back in a row up to 60 s; a line logged in between starts the count again.
TEST_F(PostponeScriptTest, HandBackOfAnUnhandledTypeBacksOffDoublingTo60Seconds) {
  Enqueue("a");
  const long long expected_ms[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (int i = 0; i < 8; ++i) {
    auto claim = Claim(1);
    ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"a"})) << i;
    const long long before = Now();
    ASSERT_EQ(Ints(Postpone({{"a", TokenOf(claim, 0), "handback", "no handler for 't' on w1"}})),
              (std::vector<long long>{1}));
    const long long after = Now();
    EXPECT_GE(ZScore(q().delayed(), "a"), before + expected_ms[i]) << i;
    EXPECT_LE(ZScore(q().delayed(), "a"), after + expected_ms[i] + 1) << i;
    EXPECT_EQ(List(q().job_logs("a")).back(),
              "handed back " + std::to_string(i + 1) + " time(s), due again in " +
                  std::to_string(expected_ms[i]) + " ms: no handler for 't' on w1");
    const broker::StateRecord state = StateOf("a");
    EXPECT_EQ(state.state, "delayed");
    EXPECT_EQ(state.attempts, 0);                  // no attempt used
    EXPECT_EQ(state.stalls, 0);                    // no stall
    Run({"ZADD", q().delayed(), "XX", "1", "a"});  // due now
  }
  // Another line in between (a rate-limited attempt on a worker with the handler): the count
  // starts again.
  auto claim = Claim(1);
  ASSERT_EQ(Ints(Postpone({{"a", TokenOf(claim, 0), "0", "rate limited"}})),
            (std::vector<long long>{1}));
  claim = Claim(1);
  const long long before = Now();
  ASSERT_EQ(Ints(Postpone({{"a", TokenOf(claim, 0), "handback", "no handler"}})),
            (std::vector<long long>{1}));
  EXPECT_LT(ZScore(q().delayed(), "a"), before + 2000);
  EXPECT_EQ(List(q().job_logs("a")).back(),
            "handed back 1 time(s), due again in 1000 ms: no handler");
  EXPECT_FALSE(Exists(q().job_errors("a")));
  EXPECT_FALSE(HExists(q().meta(), "failed"));
}

TEST_F(PostponeScriptTest, InvalidArgumentsWriteNothing) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  auto before = Snapshot();
  for (const char* delay : {"-1", "x", "1.5", "", "Handback"}) {
    // The bad delay is the second job's: the first must not have been postponed either.
    auto reply =
        Postpone({{"a", TokenOf(claim, 0), "10", ""}, {"b", TokenOf(claim, 1), delay, ""}});
    EXPECT_TRUE(reply.view().is_error()) << delay;
    EXPECT_EQ(Snapshot(), before) << delay;
  }
  auto short_args =
      Eval("postpone", PostponeKeys(), {base(), "2", "100", "a", TokenOf(claim, 0), "10", ""});
  EXPECT_TRUE(short_args.view().is_error());
  // A hand-back must say why in the log.
  EXPECT_TRUE(
      Postpone({{"a", TokenOf(claim, 0), "10", ""}, {"b", TokenOf(claim, 1), "handback", ""}})
          .view()
          .is_error());
  auto bad_cap = Postpone({{"a", TokenOf(claim, 0), "10", ""}}, "0");
  EXPECT_TRUE(bad_cap.view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
