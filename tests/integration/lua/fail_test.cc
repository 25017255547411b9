#include "script_fixture.h"

namespace taskq::testing {
namespace {

class FailScriptTest : public ScriptTest {
 protected:
  struct Failure {
    std::string id;
    std::string token;
    std::string retry_delay_ms;
    std::string error = R"({"attempt":1,"message":"boom"})";
  };
  broker::Reply Fail(const std::vector<Failure>& failures, std::string max_errors = "10",
                     std::string keep_count = "1000", std::string keep_age = "86400000") {
    std::vector<std::string> args = {base(), std::to_string(failures.size()), max_errors,
                                     keep_count, keep_age};
    for (const auto& f : failures) {
      args.insert(args.end(), {f.id, f.token, f.retry_delay_ms});
    }
    for (const auto& f : failures) args.push_back(f.error);
    return Eval("fail", FailKeys(), args);
  }
};

TEST_F(FailScriptTest, RetryDelayPutsJobInRetryWithDueScore) {
  Enqueue("a");
  auto claim = Claim(1);
  auto wakes = ListenForWakes();
  long long before = Now();
  auto reply = Fail({{"a", TokenOf(claim, 0), "5000"}});
  long long after = Now();
  EXPECT_EQ(Ints(reply), (std::vector<long long>{2}));
  const broker::StateRecord state = StateOf("a");
  EXPECT_EQ(state.state, "retrying");
  EXPECT_EQ(state.token, "");
  EXPECT_EQ(state.finished_ms, 0);  // not finished
  EXPECT_EQ(state.attempts, 1);
  EXPECT_FALSE(state.cancel_requested);
  EXPECT_GE(ZScore(q().retry(), "a"), before + 5000);
  EXPECT_LE(ZScore(q().retry(), "a"),
            after + 5000 + 1);  // due counts from now rounded up to whole ms
  EXPECT_TRUE(ZMembers(q().active()).empty());
  EXPECT_FALSE(Exists(q().dead()));
  EXPECT_EQ(HGet(q().meta(), "failed"), "1");
  EXPECT_EQ(CountWakes(*wakes), 1);  // idle workers re-arm their timers for the due time

  auto errors = List(q().job_errors("a"));
  ASSERT_EQ(errors.size(), 1u);
  ASSERT_TRUE(errors[0].starts_with(R"({"at":)")) << errors[0];
  long long at = std::stoll(errors[0].substr(6));
  EXPECT_GE(at, before);
  EXPECT_LE(at, after);
  EXPECT_TRUE(errors[0].ends_with(R"(,"attempt":1,"message":"boom"})")) << errors[0];
}

TEST_F(FailScriptTest, ErrorsArePushedNewestFirstAndTrimmedToMax) {
  Enqueue("a");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto claim = Claim(1);  // promotes the due retry
    ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"a"}));
    std::string error = R"({"message":"m)" + std::to_string(attempt) + R"("})";
    EXPECT_EQ(Ints(Fail({{"a", TokenOf(claim, 0), "0", error}}, "2")), (std::vector<long long>{2}));
  }
  auto errors = List(q().job_errors("a"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(errors[0].ends_with(R"("message":"m3"})")) << errors[0];
  EXPECT_TRUE(errors[1].ends_with(R"("message":"m2"})")) << errors[1];
  EXPECT_EQ(StateOf("a").attempts, 3);
  EXPECT_EQ(StateOf("a").state, "retrying");
  EXPECT_EQ(HGet(q().meta(), "failed"), "3");
}

TEST_F(FailScriptTest, NoRetryGoesDead) {
  Enqueue("a");
  auto claim = Claim(1);
  auto wakes = ListenForWakes();
  long long before = Now();
  auto reply = Fail({{"a", TokenOf(claim, 0), "-1"}});
  long long after = Now();
  EXPECT_EQ(Ints(reply), (std::vector<long long>{3}));
  EXPECT_EQ(StateOf("a").state, "dead");
  EXPECT_EQ(StateOf("a").token, "");
  EXPECT_EQ(StateOf("a").attempts, 1);
  long long finished = StateOf("a").finished_ms;
  EXPECT_GE(finished, before);
  EXPECT_LE(finished, after);
  EXPECT_EQ(ZScore(q().dead(), "a"), finished);
  EXPECT_FALSE(Exists(q().retry()));
  EXPECT_TRUE(ZMembers(q().active()).empty());
  EXPECT_EQ(List(q().job_errors("a")).size(), 1u);
  EXPECT_EQ(HGet(q().meta(), "failed"), "1");
  EXPECT_EQ(CountWakes(*wakes), 0);  // nothing new to claim
}

TEST_F(FailScriptTest, DeadRetentionByCountDeletesOldestJobKeys) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = Claim(3);
  for (size_t i = 0; i < 3; ++i) {
    std::string id = ClaimedIds(claim)[i];
    EXPECT_EQ(Ints(Fail({{id, TokenOf(claim, i), "-1"}}, "10", "2")), (std::vector<long long>{3}));
  }
  // "a" died first, or in the same millisecond and ranks first by name
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"b", "c"}));
  ExpectNoTrace("a");
  EXPECT_TRUE(Exists(q().job_errors("b")));
  EXPECT_EQ(StateOf("b").state, "dead");
}

TEST_F(FailScriptTest, DeadRetentionByAgeAndZeroCount) {
  Enqueue("old");
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(3);
  Fail({{"old", TokenOf(claim, 0), "-1"}}, "10", "-1", "0");
  Run({"ZADD", q().dead(), std::to_string(Now() - 100000), "old"});  // died long ago
  EXPECT_EQ(Ints(Fail({{"a", TokenOf(claim, 1), "-1"}}, "10", "-1", "50000")),
            (std::vector<long long>{3}));
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"a"}));
  ExpectNoTrace("old");
  EXPECT_EQ(StateOf("a").state, "dead");

  EXPECT_EQ(Ints(Fail({{"b", TokenOf(claim, 2), "-1"}}, "10", "0", "0")),
            (std::vector<long long>{3}));
  EXPECT_TRUE(ZMembers(q().dead()).empty());
  ExpectNoTrace("a");
  ExpectNoTrace("b");
}

TEST_F(FailScriptTest, RetryDoesNotApplyDeadRetention) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  Fail({{"a", TokenOf(claim, 0), "-1"}}, "10", "-1", "0");
  EXPECT_EQ(Ints(Fail({{"b", TokenOf(claim, 1), "1000"}}, "10", "0", "0")),
            (std::vector<long long>{2}));
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(HasBody("a"));
  EXPECT_TRUE(HasState("a"));
}

TEST_F(FailScriptTest, BatchReportsEachJob) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = Claim(3);
  std::string stale = StaleToken(TokenOf(claim, 2));
  auto c_state = StateRecord("c");
  auto reply = Fail({{"a", TokenOf(claim, 0), "1000"},
                     {"b", TokenOf(claim, 1), "-1"},
                     {"c", stale, "1000", R"({"message":"late"})"}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{2, 3, 0}));
  EXPECT_EQ(ZMembers(q().retry()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ZMembers(q().dead()), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"c"}));
  EXPECT_EQ(StateRecord("c"), c_state);
  EXPECT_FALSE(Exists(q().job_errors("c")));
  EXPECT_EQ(StateOf("a").state, "retrying");
  EXPECT_EQ(StateOf("b").state, "dead");
  EXPECT_EQ(HGet(q().meta(), "failed"), "2");
}

// The same id twice in one batch: the first failure takes the lease, so the second is stale.
TEST_F(FailScriptTest, SameIdTwiceInOneBatchFailsOnce) {
  Enqueue("a");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  auto reply = Fail({{"a", token, "60000", R"({"message":"first"})"},
                     {"a", token, "-1", R"({"message":"second"})"}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{2, 0}));
  EXPECT_EQ(StateOf("a").state, "retrying");
  EXPECT_EQ(StateOf("a").token, "");
  EXPECT_EQ(ZMembers(q().retry()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().dead()));
  auto errors = List(q().job_errors("a"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].ends_with(R"("message":"first"})")) << errors[0];
  EXPECT_EQ(HGet(q().meta(), "failed"), "1");
}

TEST_F(FailScriptTest, StaleTokenIsRejectedAndChangesNothing) {
  Enqueue("a");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  std::string stale = StaleToken(token);
  auto wakes = ListenForWakes();
  auto before = Snapshot();
  EXPECT_EQ(Ints(Fail({{"a", stale, "1000"}})), (std::vector<long long>{0}));
  EXPECT_EQ(Ints(Fail({{"a", "", "-1"}})), (std::vector<long long>{0}));
  EXPECT_EQ(Ints(Fail({{"ghost", "1", "-1"}})), (std::vector<long long>{0}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);
  // failing twice: the second is stale
  EXPECT_EQ(Ints(Fail({{"a", token, "1000"}})), (std::vector<long long>{2}));
  EXPECT_EQ(Ints(Fail({{"a", token, "-1"}})), (std::vector<long long>{0}));
  EXPECT_EQ(StateOf("a").state, "retrying");
  EXPECT_FALSE(HasState("ghost"));
  EXPECT_EQ(List(q().job_errors("a")).size(), 1u);
  EXPECT_EQ(HGet(q().meta(), "failed"), "1");
}

TEST_F(FailScriptTest, RejectsBadArgumentsBeforeAnyWrite) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  const Failure good = {"a", TokenOf(claim, 0), "1000"};
  const std::string b_token = TokenOf(claim, 1);
  const std::vector<Failure> bad = {
      {"b", b_token, "-2"},                // delay below -1
      {"b", b_token, "x"},                 // delay not a number
      {"b", b_token, "1000", "not json"},  // error not an object
      {"b", b_token, "1000", "{}"},        // error too short to prepend "at"
      {"b", b_token, "1000", ""},          // no error
  };
  auto before = Snapshot();
  for (const auto& failure : bad) {
    // a valid failure first: it must not be written either
    auto reply = Fail({good, failure});
    EXPECT_TRUE(reply.view().is_error()) << failure.retry_delay_ms << failure.error;
    EXPECT_EQ(Snapshot(), before);
  }
  EXPECT_TRUE(Fail({good}, "0").view().is_error());  // must keep at least one error
  EXPECT_TRUE(Fail({good}, "x").view().is_error());
  EXPECT_TRUE(Fail({good}, "10", "x").view().is_error());
  EXPECT_TRUE(Fail({good}, "10", "10", "x").view().is_error());
  EXPECT_EQ(Snapshot(), before);
  // n disagreeing with the arguments
  const auto keys = FailKeys();
  EXPECT_TRUE(
      Eval("fail", keys, {base(), "2", "10", "10", "10", "a", good.token, "1000", "{\"m\":1}"})
          .view()
          .is_error());
  EXPECT_TRUE(Eval("fail", keys, {base(), "0", "10", "10", "10"}).view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
