// share_move.lua: a sharded queue's concurrency moved between shards, fenced by token and by the
// limits' generation, never lowered below what runs.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ShareMoveTest : public ScriptTest {
 protected:
  // This shard's share `cc` of a queue of concurrency `total`, as queue_limits.lua writes it
  // for a sharded queue (at layout version 0 here, so that jobs enqueue without naming one).
  void SetShare(int cc, int total, const std::string& generation = "g1") {
    auto reply = Eval("queue_limits", QueueLimitsKeys(),
                      {base(), "0", "1000", std::to_string(cc), "0", "1000", "0", "", "0", "0",
                       "share", "0", std::to_string(total), generation});
    ASSERT_EQ(reply.view().integer(), 1) << reply.view().str();
  }
  broker::Reply Move(const std::string& mode, long long token, const std::string& generation,
                     long long amount) {
    return Eval("share_move", ShareMoveKeys(),
                {base(), mode, std::to_string(token), generation, std::to_string(amount)});
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

TEST_F(ShareMoveTest, BadArgumentsWriteNothing) {
  SetShare(4, 9);
  const auto before = Snapshot();
  const std::vector<std::vector<std::string>> bad = {
      {"move", "1", "g1", "1"}, {"give", "0", "g1", "1"},  {"give", "1.5", "g1", "1"},
      {"give", "x", "g1", "1"}, {"give", "1", "g1", "0"},  {"take", "1", "g1", "1000001"},
      {"read", "1", "", "1"},   {"give", "1", "g1", "-1"},
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {base()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto reply = Eval("share_move", ShareMoveKeys(), argv);
    ASSERT_TRUE(reply.view().is_error()) << args[0] << " " << args[1] << " " << args[3];
    EXPECT_EQ(reply.view().str(), "ERR invalid share move");
  }
  EXPECT_TRUE(Eval("share_move", ShareMoveKeys(), {base(), "read", "1", ""}).view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
