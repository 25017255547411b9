// share_move.lua: a sharded queue's concurrency moved between shards, fenced by token and by the
// limits' generation, never lowered below what runs.
#include <algorithm>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ShareMoveTest : public ScriptTest {
 protected:
  // Sets this shard's share of a queue of concurrency `total`, as the broker's setter does
  // (queue_limits.lua with a mover token, at layout version 0 here, so that jobs enqueue
  // without naming one): the share becomes the lesser of `cc` and the one it had. Returns it.
  long long SetShare(int cc, int total, const std::string& generation = "g1", long long token = 0) {
    if (token == 0) token = std::max(1LL, std::stoll("0" + HGet(q().meta(), "cbt")));
    auto reply = Eval("queue_limits", QueueLimitsKeys(),
                      {base(), "0", "1000", std::to_string(cc), "0", "1000", "0", "", "0", "0",
                       "share", "0", std::to_string(total), generation, std::to_string(token)});
    EXPECT_EQ(reply.view().size(), 2u) << reply.view().str();
    return reply.view()[0].integer();
  }
  broker::Reply Move(const std::string& mode, long long token, const std::string& generation,
                     long long amount, const std::string& layout_version = "0") {
    return Eval(
        "share_move", ShareMoveKeys(),
        {base(), mode, std::to_string(token), generation, std::to_string(amount), layout_version});
  }
};

TEST_F(ShareMoveTest, ReadTellsTheShareTheWorkAndTheGeneration) {
  SetShare(3, 9);
  EXPECT_EQ(HGet(q().meta(), "cct"), "9");
  EXPECT_EQ(HGet(q().meta(), "lg"), "g1");
  for (int i = 0; i < 5; ++i) Enqueue("j" + std::to_string(i));
  Claim(2);
  auto read = Move("read", 1, "", 0);
  ASSERT_EQ(read.view().size(), 5u) << read.view().str();
  EXPECT_EQ(read.view()[0].integer(), 3);
  EXPECT_EQ(read.view()[1].integer(), 2);  // active
  EXPECT_EQ(read.view()[2].integer(), 3);  // waiting
  EXPECT_EQ(read.view()[3].str(), "g1");
  EXPECT_EQ(read.view()[4].integer(), 9);
  EXPECT_EQ(HGet(q().meta(), "cbt"), "1");
}

TEST_F(ShareMoveTest, GiveNeverGoesBelowWhatRunsNorBelowOne) {
  SetShare(5, 9);
  for (int i = 0; i < 3; ++i) Enqueue("j" + std::to_string(i));
  Claim(3);
  EXPECT_EQ(Move("give", 1, "g1", 4).view().integer(), 2);  // 5 -> 3: three run
  EXPECT_EQ(HGet(q().meta(), "cc"), "3");
  EXPECT_EQ(Move("give", 1, "g1", 1).view().integer(), 0);
  SetShare(2, 9);
  EXPECT_EQ(Move("give", 2, "g1", 5).view().integer(), 0);  // three still run
  Run({"DEL", q().active()});
  EXPECT_EQ(Move("give", 2, "g1", 5).view().integer(), 1);  // none runs: down to 1
  EXPECT_EQ(HGet(q().meta(), "cc"), "1");
}

TEST_F(ShareMoveTest, TakeRaisesTheShareAndWakesTheWorkers) {
  SetShare(2, 9);
  auto wakes = ListenForWakes();
  EXPECT_EQ(Move("take", 1, "g1", 3).view().integer(), 5);
  EXPECT_EQ(HGet(q().meta(), "cc"), "5");
  EXPECT_EQ(CountWakes(*wakes), 1);
}

TEST_F(ShareMoveTest, AnOlderMoverIsFencedOutWritingNothing) {
  SetShare(4, 9);
  ASSERT_FALSE(Move("read", 7, "", 0).view().is_error());
  const auto before = Snapshot();
  for (const std::string mode : {"read", "give", "take"}) {
    auto reply = Move(mode, 6, "g1", mode == "read" ? 0 : 1);
    ASSERT_TRUE(reply.view().is_error()) << mode;
    EXPECT_EQ(reply.view().str(), "FENCED 7") << mode;
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Move("take", 7, "g1", 1).view().integer(), 5);  // the same mover goes on
}

TEST_F(ShareMoveTest, LimitsSetAgainRefuseTheMovesOfTheOldGeneration) {
  SetShare(4, 9);
  SetShare(3, 9, "g2");
  const auto before = Snapshot();
  for (const std::string mode : {"give", "take"}) {
    auto reply = Move(mode, 1, "g1", 1);
    ASSERT_TRUE(reply.view().is_error()) << mode;
    EXPECT_TRUE(reply.view().str().starts_with("LIMITS ")) << mode << ": " << reply.view().str();
  }
  EXPECT_EQ(Snapshot(), before);
  // No concurrency limit: nothing to move.
  SetShare(0, 0, "g3");
  EXPECT_FALSE(HExists(q().meta(), "cc"));
  EXPECT_FALSE(HExists(q().meta(), "cct"));
  EXPECT_TRUE(Move("take", 2, "g3", 1).view().str().starts_with("LIMITS "));
}

// The setter lowers a share at most to what it asks (the raise is share_move's take), is fenced
// like any mover, and stamps its token.
TEST_F(ShareMoveTest, TheSetterOnlyLowersAndIsFencedLikeAMover) {
  EXPECT_EQ(SetShare(3, 9), 3);
  EXPECT_EQ(SetShare(5, 9, "g2"), 3);  // kept: a take raises it
  EXPECT_EQ(HGet(q().meta(), "lg"), "g2");
  EXPECT_EQ(SetShare(2, 8, "g3"), 2);
  EXPECT_EQ(HGet(q().meta(), "cct"), "8");
  ASSERT_FALSE(Move("read", 9, "", 0).view().is_error());
  const auto before = Snapshot();
  auto fenced = Eval(
      "queue_limits", QueueLimitsKeys(),
      {base(), "0", "1000", "1", "0", "1000", "0", "", "0", "0", "share", "0", "8", "g4", "8"});
  ASSERT_TRUE(fenced.view().is_error());
  EXPECT_EQ(fenced.view().str(), "FENCED 9");
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(SetShare(1, 8, "g4", 10), 1);
  EXPECT_EQ(HGet(q().meta(), "cbt"), "10");
}

// A mover that read the queue's shards by another layout is refused: its sums would be over
// another set of shards.
TEST_F(ShareMoveTest, AMoverOfAnotherLayoutIsRefused) {
  SetShare(4, 9);
  Run({"HSET", q().meta(), "sv", "2"});
  const auto before = Snapshot();
  for (const std::string mode : {"read", "give", "take"}) {
    auto reply = Move(mode, 1, "g1", mode == "read" ? 0 : 1, "1");
    ASSERT_TRUE(reply.view().is_error()) << mode;
    EXPECT_EQ(reply.view().str(), "LAYOUT 2") << mode;
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Move("take", 1, "g1", 1, "2").view().integer(), 5);
}

TEST_F(ShareMoveTest, BadArgumentsWriteNothing) {
  SetShare(4, 9);
  const auto before = Snapshot();
  const std::vector<std::vector<std::string>> bad = {
      {"move", "1", "g1", "1", "0"},   {"give", "0", "g1", "1", "0"},
      {"give", "1.5", "g1", "1", "0"}, {"give", "x", "g1", "1", "0"},
      {"give", "1", "g1", "0", "0"},   {"take", "1", "g1", "1000001", "0"},
      {"read", "1", "", "1", "0"},     {"give", "1", "g1", "-1", "0"},
      {"read", "1", "", "0", "x"},     {"take", "1", "g1", "999997", "0"},  // past 1000000
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {base()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto reply = Eval("share_move", ShareMoveKeys(), argv);
    ASSERT_TRUE(reply.view().is_error()) << args[0] << " " << args[1] << " " << args[3];
    EXPECT_EQ(reply.view().str(), "ERR invalid share move");
  }
  EXPECT_TRUE(
      Eval("share_move", ShareMoveKeys(), {base(), "read", "1", "", "0"}).view().is_error());
  auto too_few_keys =
      Eval("share_move", {q().meta(), q().active()}, {base(), "read", "1", "", "0", "0"});
  EXPECT_EQ(too_few_keys.view().str(), "ERR invalid share move");
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
