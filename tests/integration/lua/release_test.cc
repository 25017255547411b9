#include <cmath>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ReleaseScriptTest : public ScriptTest {
 protected:
  broker::Reply Release(const std::vector<std::string>& pairs) {
    std::vector<std::string> args = {base()};
    args.insert(args.end(), pairs.begin(), pairs.end());
    return Eval("release", ReleaseKeys(), args);
  }
  // id, token pairs for Release, in the order of ids.
  static std::vector<std::string> Pairs(const std::vector<std::string>& ids,
                                        const std::map<std::string, std::string>& tokens) {
    std::vector<std::string> pairs;
    for (const auto& id : ids) {
      pairs.push_back(id);
      pairs.push_back(tokens.at(id));
    }
    return pairs;
  }
  // Claims n jobs and returns id -> token.
  std::map<std::string, std::string> ClaimTokens(int n) {
    auto claim = Claim(n);
    std::map<std::string, std::string> tokens;
    auto ids = ClaimedIds(claim);
    for (size_t i = 0; i < ids.size(); ++i) tokens[ids[i]] = TokenOf(claim, i);
    return tokens;
  }
};

TEST_F(ReleaseScriptTest, HandsBackAtHeadWithoutCountingTheAttempt) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(1);
  const broker::StateRecord claimed = StateOf("a");
  auto wakes = ListenForWakes();
  auto reply = Release({"a", TokenOf(claim, 0)});
  EXPECT_EQ(reply.view().integer(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(Exists(q().active()));
  const broker::StateRecord state = StateOf("a");
  EXPECT_EQ(state.state, "waiting");
  EXPECT_EQ(state.token, "");
  EXPECT_EQ(state.attempts, 0);
  EXPECT_EQ(state.stalls, 0);
  EXPECT_EQ(state.priority, 0);
  EXPECT_EQ(state.started_ms, claimed.started_ms);
  EXPECT_EQ(CountWakes(*wakes), 1);

  auto again = Claim(1);
  EXPECT_EQ(ClaimedIds(again), (std::vector<std::string>{"a"}));
  EXPECT_EQ(AttemptOf(again, 0), 1);  // still the first attempt
  EXPECT_TRUE(RestartedOf(again, 0));
}

TEST_F(ReleaseScriptTest, PriorityJobGoesToHeadOfItsPriority) {
  Enqueue("n2a", -2);
  Enqueue("n2b", -2);
  Enqueue("w");
  auto claim = Claim(1);
  ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"n2a"}));
  EXPECT_EQ(Release({"n2a", TokenOf(claim, 0)}).view().integer(), 1);
  EXPECT_EQ(std::floor(ZScore(q().prioritized(), "n2a") / 4294967296.0 + 0.5), -2);
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"n2a", "n2b"}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"w"}));
  EXPECT_EQ(StateOf("n2a").priority, -2);
  EXPECT_EQ(ClaimedIds(Claim(1)), (std::vector<std::string>{"n2a"}));
  EXPECT_EQ(StateOf("n2a").priority, -2);
}

// The jobs of one release go to the head in the order given (not the order claimed, nor by name).
TEST_F(ReleaseScriptTest, ReleasedJobsKeepTheGivenOrderAtTheHead) {
  for (const char* id : {"a", "b", "c", "d"}) Enqueue(id);
  auto tokens = ClaimTokens(3);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(Release(Pairs({"c", "a", "b"}, tokens)).view().integer(), 3);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"c", "a", "b", "d"}));
  EXPECT_EQ(ClaimedIds(Claim(4)), (std::vector<std::string>{"c", "a", "b", "d"}));
}

TEST_F(ReleaseScriptTest, ReleasedPriorityJobsKeepTheGivenOrderAtTheHead) {
  for (const char* id : {"x", "y", "z", "w"}) Enqueue(id, 3);
  Enqueue("n", -1);
  Enqueue("m", -1);
  Enqueue("v");
  auto tokens = ClaimTokens(6);
  ASSERT_EQ(tokens.size(), 6u);
  // mixed priorities in one call: each priority keeps the given order at its head
  EXPECT_EQ(Release(Pairs({"z", "m", "v", "x", "n", "y"}, tokens)).view().integer(), 6);
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"m", "n", "z", "x", "y", "w"}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"v"}));
  for (const char* id : {"x", "y", "z"}) {
    EXPECT_EQ(std::floor(ZScore(q().prioritized(), id) / 4294967296.0 + 0.5), 3) << id;
    EXPECT_LT(ZScore(q().prioritized(), id), ZScore(q().prioritized(), "w")) << id;
  }
  EXPECT_EQ(ClaimedIds(Claim(7)), (std::vector<std::string>{"m", "n", "v", "z", "x", "y", "w"}));
}

// A later hand-back goes ahead of an earlier one, in the wait list and in a priority alike.
TEST_F(ReleaseScriptTest, LaterHandBackGoesAheadOfEarlierOnes) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  for (const char* id : {"pa", "pb", "pc"}) Enqueue(id, 5);
  auto tokens = ClaimTokens(6);
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(Release(Pairs({"a", "pa"}, tokens)).view().integer(), 2);
  EXPECT_EQ(Release(Pairs({"b", "c", "pb", "pc"}, tokens)).view().integer(), 4);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"pb", "pc", "pa"}));
}

// Priorities up to the limit (|p| <= 1000000) keep the given order at the head too.
TEST_F(ReleaseScriptTest, ExtremePriorityJobsKeepTheGivenOrderAtTheHead) {
  for (const char* id : {"x", "y", "z", "w"}) Enqueue(id, 1000000);
  auto tokens = ClaimTokens(3);
  for (const char* id : {"nx", "ny", "nz", "nw"}) Enqueue(id, -1000000);
  tokens.merge(ClaimTokens(3));
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(Release(Pairs({"ny", "nx", "z", "y", "nz", "x"}, tokens)).view().integer(), 6);
  EXPECT_EQ(ZMembers(q().prioritized()),
            (std::vector<std::string>{"ny", "nx", "nz", "nw", "z", "y", "x", "w"}));
}

TEST_F(ReleaseScriptTest, SamePairTwiceInOneCallIsReleasedOnce) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  EXPECT_EQ(Release({"a", token, "a", token}).view().integer(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(StateOf("a").attempts, 0);  // decremented once
}

TEST_F(ReleaseScriptTest, StaleTokensAreSkipped) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  std::string stale_a = StaleToken(TokenOf(claim, 0));
  auto a_state = StateRecord("a");
  double a_deadline = ZScore(q().active(), "a");
  EXPECT_EQ(Release({"a", stale_a, "b", TokenOf(claim, 1), "ghost", "7"}).view().integer(), 1);
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ZScore(q().active(), "a"), a_deadline);
  EXPECT_EQ(StateRecord("a"), a_state);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b"}));
  EXPECT_EQ(StateOf("b").state, "waiting");
  EXPECT_FALSE(HasState("ghost"));
}

TEST_F(ReleaseScriptTest, NothingHeldChangesNothing) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  CompleteJob("b", TokenOf(claim, 1));
  auto wakes = ListenForWakes();
  auto before = Snapshot();
  std::string stale = StaleToken(TokenOf(claim, 0));
  // a stale token, an empty one, a finished job's old token (release after complete), no record
  EXPECT_EQ(Release({"a", stale, "a", "", "b", TokenOf(claim, 1), "ghost", "1"}).view().integer(),
            0);
  EXPECT_EQ(Release({}).view().integer(), 0);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);
  // releasing twice: the second is stale, so the attempt count is not decremented again
  EXPECT_EQ(Release({"a", TokenOf(claim, 0)}).view().integer(), 1);
  EXPECT_EQ(Release({"a", TokenOf(claim, 0)}).view().integer(), 0);
  EXPECT_EQ(StateOf("a").attempts, 0);
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
