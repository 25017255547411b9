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
    return Eval("complete", {q().active(), q().completed(), q().meta()}, args);
  }
};

TEST_F(CompleteScriptTest, CompletesWithTheCurrentToken) {
  Enqueue("a");
  auto claim = Claim(1);
  auto reply = Complete({"a", TokenOf(claim, 0), R"({"sent":true})"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1}));
  EXPECT_EQ(HGet(q().job_state("a"), "st"), "completed");
  EXPECT_EQ(HGet(q().job_state("a"), "r"), R"({"sent":true})");
  EXPECT_EQ(HGet(q().job_state("a"), "tk"), "");
  EXPECT_FALSE(HGet(q().job_state("a"), "tf").empty());
  EXPECT_TRUE(ZMembers(q().active()).empty());
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(HGet(q().meta(), "completed"), "1");
}

TEST_F(CompleteScriptTest, StaleTokenIsRejectedAndChangesNothing) {
  Enqueue("a");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  std::string stale = std::to_string(std::stoll(token) - 1);
  auto before = Strings({"HGETALL", q().job_state("a")});
  EXPECT_EQ(Ints(Complete({"a", stale, "null"})), (std::vector<long long>{0}));
  EXPECT_EQ(Ints(Complete({"a", "", "null"})), (std::vector<long long>{0}));
  EXPECT_EQ(Strings({"HGETALL", q().job_state("a")}), before);
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().completed()));
  // completing twice: the second is stale
  EXPECT_EQ(Ints(Complete({"a", token, "null"})), (std::vector<long long>{1}));
  EXPECT_EQ(Ints(Complete({"a", token, "null"})), (std::vector<long long>{0}));
  EXPECT_EQ(HGet(q().meta(), "completed"), "1");
}

TEST_F(CompleteScriptTest, RetentionByCountDeletesOldestJobKeys) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = Claim(3);
  Complete({"a", TokenOf(claim, 0), "null"}, 2);
  Complete({"b", TokenOf(claim, 1), "null"}, 2);
  EXPECT_TRUE(Exists(q().job("a")));
  Complete({"c", TokenOf(claim, 2), "null"}, 2);
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(Exists(q().job("a")));
  EXPECT_FALSE(Exists(q().job_state("a")));
}

TEST_F(CompleteScriptTest, RetentionZeroRemovesAtOnceAndAgeExpiresOldOnes) {
  Enqueue("old");
  Enqueue("a");
  auto claim = Claim(2);
  Complete({"old", TokenOf(claim, 0), "null"});
  Run({"ZADD", q().completed(), std::to_string(Now() - 100000), "old"});  // finished long ago
  Complete({"a", TokenOf(claim, 1), "null"}, -1, 50000);
  EXPECT_EQ(ZMembers(q().completed()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().job("old")));
  Enqueue("b");
  auto second = Claim(1);
  Complete({"b", TokenOf(second, 0), "null"}, 0);
  EXPECT_TRUE(ZMembers(q().completed()).empty());
  EXPECT_FALSE(Exists(q().job("b")));
}

TEST_F(CompleteScriptTest, RejectsBadArgumentCount) {
  EXPECT_TRUE(Eval("complete", {q().active(), q().completed(), q().meta()},
                   {base(), "2", "10", "10", "a", "1", "null"})
                  .view()
                  .is_error());
  EXPECT_TRUE(AllKeys().empty());
}

}  // namespace
}  // namespace taskq::testing
