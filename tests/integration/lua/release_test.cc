#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ReleaseScriptTest : public ScriptTest {
 protected:
  broker::Reply Release(const std::vector<std::string>& pairs) {
    std::vector<std::string> args = {base()};
    args.insert(args.end(), pairs.begin(), pairs.end());
    return Eval("release", {q().active(), q().wait(), q().prioritized()}, args);
  }
};

TEST_F(ReleaseScriptTest, HandsBackAtHeadWithoutCountingTheAttempt) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(1);
  auto wakes = ListenForWakes();
  auto reply = Release({"a", TokenOf(claim, 0)});
  EXPECT_EQ(reply.view().integer(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(HGet(q().job_state("a"), "st"), "waiting");
  EXPECT_EQ(HGet(q().job_state("a"), "tk"), "");
  EXPECT_EQ(HGet(q().job_state("a"), "a"), "0");
  EXPECT_EQ(CountWakes(*wakes), 1);

  auto again = Claim(1);
  EXPECT_EQ(ClaimedIds(again), (std::vector<std::string>{"a"}));
  EXPECT_EQ(again.view()[7].AsInt(), 1);  // still the first attempt
}

TEST_F(ReleaseScriptTest, PriorityJobGoesToHeadOfItsPriority) {
  Enqueue("n2a", -2);
  Enqueue("n2b", -2);
  Enqueue("w");
  auto claim = Claim(1);
  ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"n2a"}));
  EXPECT_EQ(Release({"n2a", TokenOf(claim, 0)}).view().integer(), 1);
  EXPECT_EQ(ZScore(q().prioritized(), "n2a"), -2 * 4294967296.0);
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"n2a", "n2b"}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"w"}));
  EXPECT_EQ(ClaimedIds(Claim(1)), (std::vector<std::string>{"n2a"}));
}

TEST_F(ReleaseScriptTest, StaleTokensAreSkipped) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  std::string stale_a = std::to_string(std::stoll(TokenOf(claim, 0)) - 1);
  auto a_state = Strings({"HGETALL", q().job_state("a")});
  double a_deadline = ZScore(q().active(), "a");
  EXPECT_EQ(Release({"a", stale_a, "b", TokenOf(claim, 1), "ghost", "7"}).view().integer(), 1);
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ZScore(q().active(), "a"), a_deadline);
  EXPECT_EQ(Strings({"HGETALL", q().job_state("a")}), a_state);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b"}));
  EXPECT_FALSE(Exists(q().job_state("ghost")));
}

TEST_F(ReleaseScriptTest, NothingHeldChangesNothing) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  CompleteJob("b", TokenOf(claim, 1));
  auto wakes = ListenForWakes();
  auto before = Snapshot();
  std::string stale = std::to_string(std::stoll(TokenOf(claim, 0)) - 1);
  // a stale token, an empty one, and a finished job's old token (release after complete)
  EXPECT_EQ(Release({"a", stale, "a", "", "b", TokenOf(claim, 1)}).view().integer(), 0);
  EXPECT_EQ(Release({}).view().integer(), 0);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);
  // releasing twice: the second is stale, so the attempt count is not decremented again
  EXPECT_EQ(Release({"a", TokenOf(claim, 0)}).view().integer(), 1);
  EXPECT_EQ(Release({"a", TokenOf(claim, 0)}).view().integer(), 0);
  EXPECT_EQ(HGet(q().job_state("a"), "a"), "0");
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
}

TEST_F(ReleaseScriptTest, RejectsIdWithoutToken) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  auto before = Snapshot();
  // a valid pair first: it must not be released either
  EXPECT_TRUE(Release({"a", TokenOf(claim, 0), "b"}).view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
