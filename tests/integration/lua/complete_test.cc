#include "script_fixture.h"

namespace taskq::testing {
namespace {

class CompleteScriptTest : public ScriptTest {
 protected:
  broker::Reply Complete(const std::vector<std::string>& triples, long long keep_count = 1000,
                         long long keep_age = 86400000) {
    std::vector<std::string> args = {base(), std::to_string(triples.size() / 3),
                                     std::to_string(keep_count), std::to_string(keep_age)};
    args.insert(args.end(), triples.begin(), triples.end());
    return Eval("complete", CompleteKeys(), args);
  }
};

TEST_F(CompleteScriptTest, CompletesWithTheCurrentToken) {
  Enqueue("a");
  auto claim = Claim(1);
  const int64_t started = StateOf("a").started_ms;
  long long before = Now();
  auto reply = Complete({"a", TokenOf(claim, 0), R"({"sent":true})"});
  long long after = Now();
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1}));
  const broker::StateRecord state = StateOf("a");
  EXPECT_EQ(state.state, "completed");
  EXPECT_EQ(state.token, "");
  EXPECT_EQ(state.attempts, 1);
  EXPECT_EQ(state.started_ms, started);
  long long finished = state.finished_ms;
  EXPECT_GE(finished, before);
  EXPECT_LE(finished, after);
  EXPECT_EQ(ResultOf("a"), R"({"sent":true})");
  EXPECT_TRUE(ZMembers(q().active()).empty());
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ZScore(q().completed(), "a"), finished);
  EXPECT_EQ(HGet(q().meta(), "completed"), "1");
}

// Only the state name, tf and tk change: attempts, stalls, start, priority and a pending cancel
// request stay as the lease left them.
TEST_F(CompleteScriptTest, KeepsEveryOtherFieldOfTheRecord) {
  Run({"HSET", q().state(), "a", "active:3:2:1000:0:-7:77:1"});
  Run({"ZADD", q().active(), "99999999999999", "a"});
  long long before = Now();
  EXPECT_EQ(Ints(Complete({"a", "77", "null"})), (std::vector<long long>{1}));
  const std::string record = HGet(q().state(), "a");
  const std::string tf = std::to_string(static_cast<long long>(ZScore(q().completed(), "a")));
  EXPECT_EQ(record, "completed:3:2:1000:" + tf + ":-7::1");
  EXPECT_GE(std::stoll(tf), before);
  // A record the pattern does not fit is never taken for a completion.
  Run({"HSET", q().state(), "b", "active:3:2:1000:0:x:77:1"});
  Run({"ZADD", q().active(), "99999999999999", "b"});
  EXPECT_EQ(Ints(Complete({"b", "77", "null"})), (std::vector<long long>{0}));
  EXPECT_EQ(HGet(q().state(), "b"), "active:3:2:1000:0:x:77:1");
}

TEST_F(CompleteScriptTest, NullResultIsNotStored) {
  Enqueue("a");
  Enqueue("b");
  Enqueue("c");
  auto claim = Claim(3);
  auto reply = Complete({"a", TokenOf(claim, 0), "null", "b", TokenOf(claim, 1), R"({"n":2})", "c",
                         TokenOf(claim, 2), "0"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1, 1}));
  EXPECT_FALSE(HasResult("a"));
  EXPECT_EQ(StateOf("a").state, "completed");
  EXPECT_EQ(ResultOf("b"), R"({"n":2})");
  EXPECT_EQ(ResultOf("c"), "0");  // only the JSON null is left out
  EXPECT_EQ(HGet(q().meta(), "completed"), "3");

  // a batch of null results writes no result hash at all
  Run({"DEL", q().results()});
  Enqueue("d");
  auto second = Claim(1);
  EXPECT_EQ(Ints(Complete({"d", TokenOf(second, 0), "null"})), (std::vector<long long>{1}));
  EXPECT_FALSE(Exists(q().results()));
}

TEST_F(CompleteScriptTest, StaleTokenIsRejectedAndChangesNothing) {
  Enqueue("a");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  auto before = Snapshot();
  EXPECT_EQ(Ints(Complete({"a", StaleToken(token), R"({"r":0})"})), (std::vector<long long>{0}));
  EXPECT_EQ(Ints(Complete({"a", "", "null"})), (std::vector<long long>{0}));
  EXPECT_EQ(Ints(Complete({"ghost", "1", R"({"r":0})"})), (std::vector<long long>{0}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().completed()));
  EXPECT_FALSE(HasResult("a"));
  EXPECT_FALSE(HasState("ghost"));
  // completing twice: the second is stale and does not overwrite the result
  EXPECT_EQ(Ints(Complete({"a", token, R"({"r":1})"})), (std::vector<long long>{1}));
  auto done = Snapshot();
  EXPECT_EQ(Ints(Complete({"a", token, R"({"r":2})"})), (std::vector<long long>{0}));
  EXPECT_EQ(Snapshot(), done);
  EXPECT_EQ(ResultOf("a"), R"({"r":1})");
  EXPECT_EQ(HGet(q().meta(), "completed"), "1");
}

// The same id twice in one batch: the first completes it, so the second is stale.
TEST_F(CompleteScriptTest, SameIdTwiceInOneBatchCompletesOnce) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  std::string a = TokenOf(claim, 0);
  auto reply =
      Complete({"a", a, R"({"r":1})", "b", TokenOf(claim, 1), "null", "a", a, R"({"r":2})"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1, 0}));
  EXPECT_EQ(ResultOf("a"), R"({"r":1})");
  EXPECT_EQ(StateOf("a").state, "completed");
  EXPECT_EQ(StateOf("a").token, "");
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(HGet(q().meta(), "completed"), "2");
}

// A token of "" stands for the token of the job before it in the call: the jobs of one claim
// share a token, and a batch sends it once. It never makes a job of another claim completable.
TEST_F(CompleteScriptTest, AnEmptyTokenStandsForThePreviousJobsToken) {
  Enqueue("a");
  Enqueue("b");
  auto first = Claim(2);
  Enqueue("c");
  auto second = Claim(1);
  ASSERT_NE(TokenOf(first, 0), TokenOf(second, 0));
  // No job before it: rejected.
  EXPECT_EQ(Ints(Complete({"a", "", "null"})), (std::vector<long long>{0}));
  EXPECT_EQ(StateOf("a").state, "active");
  // b takes a's token; c's own token differs from it, so "" is stale for c.
  auto reply = Complete({"a", TokenOf(first, 0), "null", "b", "", "null", "c", "", "null"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1, 0}));
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(StateOf("c").state, "active");
  EXPECT_EQ(Ints(Complete({"c", TokenOf(second, 0), "null"})), (std::vector<long long>{1}));
}

TEST_F(CompleteScriptTest, BatchReportsEachJob) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = Claim(3);
  auto b_state = StateRecord("b");
  auto reply = Complete({"a", TokenOf(claim, 0), R"({"r":"a"})", "b", StaleToken(TokenOf(claim, 1)),
                         R"({"r":"b"})", "c", TokenOf(claim, 2), R"({"r":"c"})"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 0, 1}));
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"b"}));
  EXPECT_EQ(StateRecord("b"), b_state);
  EXPECT_FALSE(HasResult("b"));
  EXPECT_EQ(ResultOf("c"), R"({"r":"c"})");
  EXPECT_EQ(HGet(q().meta(), "completed"), "2");
}

TEST_F(CompleteScriptTest, RetentionByCountDeletesOldestJobKeys) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = Claim(3);
  Eval("progress", ProgressKeys(), {base(), "10", "a", TokenOf(claim, 0), "1", "1", "line"});
  ASSERT_TRUE(HasProgress("a"));
  Complete({"a", TokenOf(claim, 0), R"({"r":"a"})"}, 2);
  Complete({"b", TokenOf(claim, 1), R"({"r":"b"})"}, 2);
  EXPECT_TRUE(HasBody("a"));
  EXPECT_TRUE(HasResult("a"));
  Complete({"c", TokenOf(claim, 2), R"({"r":"c"})"}, 2);
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"b", "c"}));
  ExpectNoTrace("a");
  for (const char* id : {"b", "c"}) {
    EXPECT_TRUE(HasBody(id)) << id;
    EXPECT_EQ(StateOf(id).state, "completed") << id;
    EXPECT_TRUE(HasResult(id)) << id;
  }
}

TEST_F(CompleteScriptTest, RetentionZeroRemovesAtOnceAndAgeExpiresOldOnes) {
  Enqueue("old");
  Enqueue("a");
  auto claim = Claim(2);
  Complete({"old", TokenOf(claim, 0), R"({"r":"old"})"});
  Run({"ZADD", q().completed(), std::to_string(Now() - 100000), "old"});  // finished long ago
  Complete({"a", TokenOf(claim, 1), R"({"r":"a"})"}, -1, 50000);
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"a"}));
  ExpectNoTrace("old");
  EXPECT_TRUE(HasResult("a"));
  Enqueue("b");
  auto second = Claim(1);
  Complete({"b", TokenOf(second, 0), R"({"r":"b"})"}, 0);
  EXPECT_TRUE(ZMembers(q().completed()).empty());
  ExpectNoTrace("b");
  ExpectNoTrace("a");
}

TEST_F(CompleteScriptTest, RejectsBadArguments) {
  Enqueue("a");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  auto before = Snapshot();
  // n disagreeing with the arguments: the valid triple must not be written either
  EXPECT_TRUE(Eval("complete", CompleteKeys(), {base(), "2", "10", "10", "a", token, "null"})
                  .view()
                  .is_error());
  EXPECT_TRUE(
      Eval("complete", CompleteKeys(), {base(), "1", "10", "10", "a", token}).view().is_error());
  EXPECT_TRUE(Eval("complete", CompleteKeys(), {base(), "0", "10", "10"}).view().is_error());
  EXPECT_TRUE(Eval("complete", CompleteKeys(), {base(), "x", "10", "10", "a", token, "null"})
                  .view()
                  .is_error());
  EXPECT_TRUE(Eval("complete", CompleteKeys(), {base(), "1", "x", "10", "a", token, "null"})
                  .view()
                  .is_error());
  EXPECT_TRUE(Eval("complete", CompleteKeys(), {base(), "1", "10", "x", "a", token, "null"})
                  .view()
                  .is_error());
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(StateOf("a").state, "active");
}

}  // namespace
}  // namespace taskq::testing
