#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ExtendScriptTest : public ScriptTest {
 protected:
  broker::Reply Extend(const std::vector<std::string>& pairs, std::string lease_ms = "60000") {
    std::vector<std::string> args = {base(), lease_ms};
    args.insert(args.end(), pairs.begin(), pairs.end());
    return Eval("extend", ExtendKeys(), args);
  }
  // The ids of one of the two arrays of an extend reply.
  static std::vector<std::string> Ids(const broker::Reply& reply, size_t which) {
    std::vector<std::string> ids;
    for (size_t i = 0; i < reply.view()[which].size(); ++i) {
      ids.emplace_back(reply.view()[which][i].str());
    }
    return ids;
  }
  static std::vector<std::string> Lost(const broker::Reply& reply) { return Ids(reply, 0); }
  static std::vector<std::string> Cancelled(const broker::Reply& reply) { return Ids(reply, 1); }
  // Expires a's lease and recovers it through the real recover script.
  void ExpireAndRecover(const std::string& id) {
    Run({"ZADD", q().active(), "XX", std::to_string(Now() - 1), id});
    auto reply = Eval("recover", RecoverKeys(), {base(), "10", "100", "10", "-1", "0"});
    ASSERT_EQ(Ints(reply), (std::vector<long long>{1, 0}));
  }
};

TEST_F(ExtendScriptTest, RenewsLeasesOfHeldJobs) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2, 1000);
  long long before = Now();
  auto reply = Extend({"a", TokenOf(claim, 0), "b", TokenOf(claim, 1)}, "60000");
  long long after = Now();
  ASSERT_EQ(reply.view().size(), 2u);
  EXPECT_TRUE(Lost(reply).empty());
  EXPECT_TRUE(Cancelled(reply).empty());
  for (const char* id : {"a", "b"}) {
    EXPECT_GE(ZScore(q().active(), id), before + 60000) << id;
    EXPECT_LE(ZScore(q().active(), id), after + 60000) << id;
  }
  // the lease stays the same one: only its deadline moves
  EXPECT_EQ(StateOf("a").token, TokenOf(claim, 0));
  EXPECT_EQ(StateOf("b").token, TokenOf(claim, 1));
}

TEST_F(ExtendScriptTest, OnlyMatchingTokensAreRenewed) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2, 1000);
  double b_deadline = ZScore(q().active(), "b");
  std::string stale = StaleToken(TokenOf(claim, 1));
  auto state = Strings({"HGETALL", q().state()});
  auto reply = Extend({"a", TokenOf(claim, 0), "b", stale, "c", "", "ghost", "1"});
  EXPECT_EQ(Lost(reply), (std::vector<std::string>{"b", "c", "ghost"}));
  EXPECT_TRUE(Cancelled(reply).empty());
  EXPECT_GT(ZScore(q().active(), "a"), b_deadline + 50000);
  EXPECT_EQ(ZScore(q().active(), "b"), b_deadline);
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"b", "a"}));  // no "c" added
  EXPECT_EQ(Strings({"HGETALL", q().state()}), state);  // extend never writes a record
}

TEST_F(ExtendScriptTest, JobRecoveredAndClaimedAgainIsLostToTheOldWorker) {
  Enqueue("a");
  auto first = Claim(1);
  ExpireAndRecover("a");
  // recovered, not yet claimed again: lost, and not put back into active
  auto reply = Extend({"a", TokenOf(first, 0)});
  EXPECT_EQ(Lost(reply), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(StateOf("a").state, "waiting");

  auto second = Claim(1, 1000);
  double deadline = ZScore(q().active(), "a");
  reply = Extend({"a", TokenOf(first, 0)});
  EXPECT_EQ(Lost(reply), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ZScore(q().active(), "a"), deadline);  // the new holder's lease is untouched
  reply = Extend({"a", TokenOf(second, 0)});
  EXPECT_TRUE(Lost(reply).empty());
  EXPECT_GT(ZScore(q().active(), "a"), deadline + 50000);
}

TEST_F(ExtendScriptTest, FinishedJobIsLostAndStaysFinished) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  CompleteJob("a", TokenOf(claim, 0));
  FailJob("b", TokenOf(claim, 1), 60000);
  auto before = Snapshot();
  auto reply = Extend({"a", TokenOf(claim, 0), "b", TokenOf(claim, 1), "b", ""});
  EXPECT_EQ(Lost(reply), (std::vector<std::string>{"a", "b", "b"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(ExtendScriptTest, ReportsCancelRequestedJobs) {
  Enqueue("a");
  Enqueue("b");
  Enqueue("c");
  auto claim = Claim(3, 1000);
  for (const char* id : {"a", "c"}) {
    auto removed = Eval("remove", RemoveKeys(), {base(), id, "cancel"});
    ASSERT_EQ(removed.view().integer(), 2);  // stop requested
  }
  std::string stale_c = StaleToken(TokenOf(claim, 2));
  auto reply = Extend({"a", TokenOf(claim, 0), "b", TokenOf(claim, 1), "c", stale_c});
  EXPECT_EQ(Cancelled(reply), (std::vector<std::string>{"a"}));  // c is only reported lost
  EXPECT_EQ(Lost(reply), (std::vector<std::string>{"c"}));
  // still renewed, so the worker keeps the lease while it stops the job
  EXPECT_GT(ZScore(q().active(), "a"), ZScore(q().active(), "c") + 50000);
}

TEST_F(ExtendScriptTest, CancelRequestIsReportedAtEveryExtension) {
  Enqueue("a");
  auto claim = Claim(1, 1000);
  ASSERT_EQ(Eval("remove", RemoveKeys(), {base(), "a", "cancel"}).view().integer(), 2);
  ASSERT_TRUE(StateOf("a").cancel_requested);
  for (int i = 0; i < 2; ++i) {
    auto reply = Extend({"a", TokenOf(claim, 0)});
    EXPECT_EQ(Cancelled(reply), (std::vector<std::string>{"a"})) << i;
    EXPECT_TRUE(Lost(reply).empty()) << i;
  }
  EXPECT_TRUE(StateOf("a").cancel_requested);  // extend does not clear the request
}

TEST_F(ExtendScriptTest, NoLeasesIsTwoEmptyArrays) {
  auto reply = Extend({});
  ASSERT_EQ(reply.view().size(), 2u);
  EXPECT_TRUE(Lost(reply).empty());
  EXPECT_TRUE(Cancelled(reply).empty());
  EXPECT_TRUE(AllKeys().empty());
}

TEST_F(ExtendScriptTest, RejectsBadArguments) {
  Enqueue("a");
  auto claim = Claim(1, 1000);
  std::string token = TokenOf(claim, 0);
  auto before = Snapshot();
  EXPECT_TRUE(Extend({"a", token}, "0").view().is_error());
  EXPECT_TRUE(Extend({"a", token}, "-5").view().is_error());
  EXPECT_TRUE(Extend({"a", token}, "x").view().is_error());
  EXPECT_TRUE(Extend({"a", token, "b"}).view().is_error());  // id without token
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
