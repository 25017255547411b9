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
  EXPECT_EQ(ClaimedIds(reply),
            (std::vector<std::string>{"n3", "n3b", "w1", "w2", "p1", "p5"}));
  EXPECT_EQ(reply.view()[1].AsInt(), 0);  // not paused
  EXPECT_EQ(reply.view()[2].AsInt(), 0);  // nothing more waiting
  EXPECT_TRUE(List(q().wait()).empty());
  EXPECT_TRUE(ZMembers(q().prioritized()).empty());
  EXPECT_EQ(ZMembers(q().active()).size(), 6u);
}

TEST_F(ClaimScriptTest, SetsLeaseTokenAttemptAndReturnsBody) {
  Enqueue("a");
  long long before = Now();
  auto reply = Claim(1, 5000);
  ASSERT_EQ(reply.view()[4].AsInt(), 1);
  EXPECT_EQ(reply.view()[5].str(), "a");
  EXPECT_TRUE(std::string(reply.view()[6].str()).ends_with(R"("t":"email","d":{}})"));
  EXPECT_EQ(reply.view()[7].AsInt(), 1);  // attempt
  std::string token = TokenOf(reply, 0);
  EXPECT_EQ(HGet(q().job_state("a"), "tk"), token);
  EXPECT_EQ(HGet(q().job_state("a"), "st"), "active");
  EXPECT_EQ(HGet(q().job_state("a"), "a"), "1");
  EXPECT_NEAR(ZScore(q().active(), "a"), before + 5000, 1000);
}

TEST_F(ClaimScriptTest, TokensOnlyGrow) {
  Enqueue("a");
  Enqueue("b");
  auto first = Claim(1);
  auto second = Claim(1);
  EXPECT_LT(std::stoll(TokenOf(first, 0)), std::stoll(TokenOf(second, 0)));
}

TEST_F(ClaimScriptTest, ReportsMoreWhenJobsRemain) {
  Enqueue("a");
  Enqueue("b");
  auto reply = Claim(1);
  EXPECT_EQ(reply.view()[2].AsInt(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b"}));
}

TEST_F(ClaimScriptTest, PausedQueueHandsOutNothing) {
  Enqueue("a");
  Run({"HSET", q().meta(), "paused", "1"});
  auto reply = Claim(5);
  EXPECT_EQ(reply.view()[1].AsInt(), 1);
  EXPECT_EQ(reply.view()[4].AsInt(), 0);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
}

TEST_F(ClaimScriptTest, PromotesDueDelayedAndRetryJobsAndReportsNextDue) {
  Enqueue("later", 0, 60000);
  long long now = Now();
  Run({"SET", q().job("due"), R"({"c":1,"t":"x","d":{}})"});
  Run({"ZADD", q().delayed(), std::to_string(now - 10), "due"});
  Run({"SET", q().job("retried"), R"({"c":1,"t":"x","d":{}})"});
  Run({"HSET", q().job_state("retried"), "st", "retrying", "a", "1", "p", "2"});
  Run({"ZADD", q().retry(), std::to_string(now - 5), "retried"});
  auto reply = Claim(10);
  EXPECT_EQ(ClaimedIds(reply), (std::vector<std::string>{"due", "retried"}));
  EXPECT_EQ(reply.view()[5 + 4 + 2].AsInt(), 2);  // second attempt of the retried job
  long long next_due = reply.view()[3].AsInt();
  EXPECT_GT(next_due, 55000);
  EXPECT_LE(next_due, 60000);
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"later"}));
}

TEST_F(ClaimScriptTest, EmptyQueueReportsNoNextDue) {
  auto reply = Claim(3);
  EXPECT_EQ(reply.view()[4].AsInt(), 0);
  EXPECT_EQ(reply.view()[3].AsInt(), -1);
  EXPECT_TRUE(AllKeys().empty());
}

TEST_F(ClaimScriptTest, MissingBodyComesBackEmpty) {
  Run({"RPUSH", q().wait(), "ghost"});
  auto reply = Claim(1);
  ASSERT_EQ(reply.view()[4].AsInt(), 1);
  EXPECT_EQ(reply.view()[6].str(), "");
}

TEST_F(ClaimScriptTest, RejectsBadArguments) {
  Enqueue("a");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {base(), "0", "1000", "10"},
           {base(), "1001", "1000", "10"},
           {base(), "1", "0", "10"},
           {base(), "x", "1000", "10"}}) {
    auto reply = Eval("claim",
                      {q().wait(), q().prioritized(), q().delayed(), q().retry(), q().active(),
                       q().meta()},
                      args);
    EXPECT_TRUE(reply.view().is_error());
  }
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().active()));
}

}  // namespace
}  // namespace taskq::testing
