// queue_limits.lua, and the limits as claim.lua enforces them (a rate window per queue, a cap on
// active jobs) and as the finishing scripts release them (a wake when a slot frees up).
#include <tuple>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

class QueueLimitsTest : public ScriptTest {
 protected:
  void EnqueueMany(int n) {
    for (int i = 0; i < n; ++i) Enqueue("j" + std::to_string(i));
  }
  // Moves every batch of the rate window `ms` into the past, as if that much time had passed.
  void AgeWindow(long long ms) {
    auto members = Strings({"ZRANGE", q().rate_window(), "0", "-1", "WITHSCORES"});
    for (size_t i = 0; i + 1 < members.size(); i += 2) {
      long long score = std::stoll(members[i + 1]) - ms;
      Run({"ZADD", q().rate_window(), std::to_string(score), members[i]});
    }
  }
};

TEST_F(QueueLimitsTest, StoresLimitsInMetaAndClearsThem) {
  SetLimits(100, 1000, 3);
  EXPECT_EQ(HGet(q().meta(), "rl"), "100:1000");
  EXPECT_EQ(HGet(q().meta(), "cc"), "3");
  Enqueue("a");
  Claim(1);
  EXPECT_TRUE(Exists(q().rate_window()));
  EXPECT_EQ(Get(q().base() + "rls"), "1");
  SetLimits(0, 1000, 0);
  EXPECT_FALSE(HExists(q().meta(), "rl"));
  EXPECT_FALSE(Exists(q().base() + "rls"));
  EXPECT_FALSE(HExists(q().meta(), "cc"));
  EXPECT_FALSE(Exists(q().rate_window()));  // a removed limit leaves no window behind
}

TEST_F(QueueLimitsTest, RejectsBadArgumentsAndWritesNothing) {
  SetLimits(5, 1000, 2);
  auto before = Snapshot();
  const std::vector<std::vector<std::string>> bad = {
      {"-1", "1000", "0"},  {"1000000001", "1000", "0"},
      {"5", "0", "0"},      {"5", "86400001", "0"},
      {"5", "1000", "-1"},  {"5", "1000", "1000001"},
      {"1.5", "1000", "0"}, {"5", "x", "0"},
      {"5", "1000", ""},
  };
  for (const auto& args : bad) {
    std::vector<std::string> argv = {base()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"0", "1000", "0", "", "0", "0"});
    auto reply = Eval("queue_limits", QueueLimitsKeys(), argv);
    EXPECT_TRUE(reply.view().is_error()) << args[0] << " " << args[1] << " " << args[2];
  }
  const std::vector<std::vector<std::string>> bad_group = {
      {"-1", "1000", "0", ""},
      {"5", "0", "0", ""},
      {"5", "1000", "-2", ""},
      {"0", "1000", "0", std::string(129, 'f')},
  };
  for (const char* aging : {"-1", "86400001", "x"}) {
    auto reply = Eval("queue_limits", QueueLimitsKeys(),
                      {base(), "5", "1000", "2", "0", "1000", "0", "", aging, "0"});
    EXPECT_TRUE(reply.view().is_error()) << aging;
  }
  for (const char* max_length : {"-1", "1099511627777", "2.5", "x"}) {
    auto reply = Eval("queue_limits", QueueLimitsKeys(),
                      {base(), "5", "1000", "2", "0", "1000", "0", "", "0", max_length});
    EXPECT_TRUE(reply.view().is_error()) << max_length;
  }
  for (const auto& args : bad_group) {
    std::vector<std::string> argv = {base(), "5", "1000", "2"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"0", "0"});
    EXPECT_TRUE(Eval("queue_limits", QueueLimitsKeys(), argv).view().is_error()) << args[0];
  }
  auto too_few = Eval("queue_limits", QueueLimitsKeys(),
                      {base(), "5", "1000", "2", "0", "1000", "0", "", "0"});
  EXPECT_TRUE(too_few.view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(QueueLimitsTest, SettingLimitsWakesWorkers) {
  auto wakes = ListenForWakes();
  SetLimits(10, 1000, 0);
  EXPECT_EQ(CountWakes(*wakes), 1);
}

TEST_F(QueueLimitsTest, NoLimitWritesNoWindow) {
  EnqueueMany(3);
  EXPECT_EQ(CountOf(Claim(10)), 3);
  EXPECT_FALSE(Exists(q().rate_window()));
  EXPECT_FALSE(Exists(q().base() + "rls"));
}

TEST_F(QueueLimitsTest, RateLimitCapsStartsPerWindowAndSaysWhenMayStartAgain) {
  SetLimits(3, 1000, 0);
  EnqueueMany(5);
  auto first = Claim(10);
  EXPECT_EQ(ClaimedIds(first), (std::vector<std::string>{"j0", "j1", "j2"}));
  EXPECT_EQ(MoreOf(first), 0);  // held back by the limit: no immediate re-claim
  EXPECT_GT(NextDueOf(first), 0);
  EXPECT_LE(NextDueOf(first), 1000);
  auto held = Claim(10);
  EXPECT_EQ(CountOf(held), 0);
  EXPECT_GT(NextDueOf(held), 0);
  EXPECT_LE(NextDueOf(held), 1000);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"j3", "j4"}));  // still waiting, in order
  AgeWindow(1000);  // the first batch has left the window
  auto later = Claim(10);
  EXPECT_EQ(ClaimedIds(later), (std::vector<std::string>{"j3", "j4"}));
  EXPECT_EQ(Get(q().base() + "rls"), "2");  // the sum holds only the batches in the window
  EXPECT_EQ(ZMembers(q().rate_window()).size(), 1u);
}

// A sliding window: a batch counts until exactly `window` ms after it started, wherever the
// clock's second boundaries fall.
TEST_F(QueueLimitsTest, WindowSlidesBatchByBatch) {
  SetLimits(4, 1000, 0);
  EnqueueMany(8);
  EXPECT_EQ(CountOf(Claim(3)), 3);
  AgeWindow(600);
  EXPECT_EQ(CountOf(Claim(3)), 1);  // 3 started 600 ms ago still count
  AgeWindow(300);                   // 900 and 300 ms ago
  EXPECT_EQ(CountOf(Claim(3)), 0);
  AgeWindow(100);  // the batch of 3 is now exactly one window old: it no longer counts
  auto claim = Claim(5);
  EXPECT_EQ(CountOf(claim), 3);
  EXPECT_EQ(Get(q().base() + "rls"), "4");
}

TEST_F(QueueLimitsTest, RaisingTheRateKeepsEarlierStartsInTheWindow) {
  SetLimits(2, 1000, 0);
  EnqueueMany(6);
  EXPECT_EQ(CountOf(Claim(10)), 2);
  SetLimits(3, 1000, 0);
  EXPECT_EQ(CountOf(Claim(10)), 1);
}

TEST_F(QueueLimitsTest, ConcurrencyLimitCapsActiveJobsAcrossClaims) {
  SetLimits(0, 1000, 2);
  EnqueueMany(5);
  auto first = Claim(10);
  EXPECT_EQ(ClaimedIds(first), (std::vector<std::string>{"j0", "j1"}));
  EXPECT_EQ(MoreOf(first), 0);
  EXPECT_EQ(NextDueOf(first), -1);   // nothing timed: a finishing job wakes the workers
  EXPECT_EQ(CountOf(Claim(10)), 0);  // another worker gets nothing either
  auto wakes = ListenForWakes();
  CompleteJob("j0", TokenOf(first, 0));
  EXPECT_EQ(CountWakes(*wakes), 1);
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"j2"}));
  EXPECT_EQ(ZMembers(q().active()).size(), 2u);
}

TEST_F(QueueLimitsTest, FailureToDeadAndRecoveryToDeadWakeLimitedWorkers) {
  SetLimits(0, 1000, 1);
  EnqueueMany(3);
  auto first = Claim(1);
  auto wakes = ListenForWakes();
  FailJob("j0", TokenOf(first, 0), -1);  // dead: frees the slot
  EXPECT_EQ(CountWakes(*wakes), 1);
  auto second = Claim(1);
  ASSERT_EQ(ClaimedIds(second), (std::vector<std::string>{"j1"}));
  Run({"ZADD", q().active(), "1", "j1"});  // its lease expired long ago
  auto recovered = Eval("recover", RecoverKeys(), {base(), "0", "100", "10", "-1", "0"});
  ASSERT_EQ(Ints(recovered), (std::vector<long long>{0, 1}));  // max_stalls 0: dead
  EXPECT_EQ(CountWakes(*wakes), 1);
  EXPECT_EQ(ClaimedIds(Claim(1)), (std::vector<std::string>{"j2"}));
}

TEST_F(QueueLimitsTest, UnlimitedQueueFinishesWithoutWakes) {
  EnqueueMany(1);
  auto claim = Claim(1);
  auto wakes = ListenForWakes();
  CompleteJob("j0", TokenOf(claim, 0));
  EXPECT_EQ(CountWakes(*wakes), 0);
}

TEST_F(QueueLimitsTest, BothLimitsTheTighterWins) {
  SetLimits(5, 1000, 2);
  EnqueueMany(6);
  auto first = Claim(10);
  EXPECT_EQ(CountOf(first), 2);  // concurrency
  CompleteJob("j0", TokenOf(first, 0));
  CompleteJob("j1", TokenOf(first, 1));
  EXPECT_EQ(CountOf(Claim(10)), 2);
  auto third = Claim(10);
  EXPECT_EQ(CountOf(third), 0);
  EXPECT_EQ(Get(q().base() + "rls"), "4");
}

TEST_F(QueueLimitsTest, PrioritizedJobsKeepTheirOrderUnderALimit) {
  SetLimits(1, 1000, 0);
  Enqueue("low", 5);
  Enqueue("plain");
  Enqueue("high", -5);
  EXPECT_EQ(ClaimedIds(Claim(3)), (std::vector<std::string>{"high"}));
  AgeWindow(1000);
  EXPECT_EQ(ClaimedIds(Claim(3)), (std::vector<std::string>{"plain"}));
  AgeWindow(1000);
  EXPECT_EQ(ClaimedIds(Claim(3)), (std::vector<std::string>{"low"}));
}

// A sharded queue (meta.shards above 1, shard_layout.lua) takes no limit or setting: each one is
// refused, writing nothing; "none" everywhere is taken, and clears what an unsharded queue had.
TEST_F(QueueLimitsTest, ShardedQueueRefusesEveryLimitButTakesNone) {
  Run({"HSET", q().meta(), "shards", "3", "sv", "2", "stags", "b c"});
  const std::vector<std::string> none = {"0", "1000", "0", "0", "1000", "0", "", "0", "0"};
  // {what, argument index in `none`, value}
  const std::vector<std::tuple<std::string, size_t, std::string>> limits = {
      {"rate", 0, "5"},
      {"concurrency", 2, "2"},
      {"group rate", 3, "5"},
      {"group concurrency", 5, "1"},
      {"group field", 6, "tenant"},
      {"aging", 7, "1000"},
      {"maximum length", 8, "100"},
  };
  auto wakes = ListenForWakes();
  const auto before = Snapshot();
  for (const auto& [what, index, value] : limits) {
    std::vector<std::string> argv = {base()};
    argv.insert(argv.end(), none.begin(), none.end());
    argv[1 + index] = value;
    auto reply = Eval("queue_limits", QueueLimitsKeys(), argv);
    ASSERT_TRUE(reply.view().is_error()) << what;
    EXPECT_TRUE(reply.view().str().starts_with("SHARDED")) << what << ": " << reply.view().str();
    EXPECT_EQ(Snapshot(), before) << what;
  }
  EXPECT_EQ(CountWakes(*wakes), 0);

  Run({"HSET", q().meta(), "rl", "5:1000", "ml", "100"});  // from before it was sharded
  std::vector<std::string> argv = {base()};
  argv.insert(argv.end(), none.begin(), none.end());
  auto reply = Eval("queue_limits", QueueLimitsKeys(), argv);
  EXPECT_EQ(reply.view().integer(), 1) << reply.view().str();
  EXPECT_FALSE(HExists(q().meta(), "rl"));
  EXPECT_FALSE(HExists(q().meta(), "ml"));
  EXPECT_EQ(HGet(q().meta(), "shards"), "3");

  Run({"HSET", q().meta(), "shards", "1"});  // one shard again: limits are taken
  SetLimits(5, 1000, 2);
  EXPECT_EQ(HGet(q().meta(), "rl"), "5:1000");
  EXPECT_EQ(HGet(q().meta(), "cc"), "2");
}

// The broker writes a sharded queue's limits as shares, each marked "share" with the layout
// version they were made for: taken on the home shard too, refused on a shard at another
// version (the layout changed meanwhile); anything else after them is a bad argument count.
TEST_F(QueueLimitsTest, AShareIsTakenOnAShardedQueueAtItsLayoutVersion) {
  Run({"HSET", q().meta(), "shards", "3", "sv", "2", "stags", "b c"});
  std::vector<std::string> argv = {base(), "2", "1000", "1", "0", "1000", "0", "", "0", "4"};
  argv.insert(argv.end(), {"share", "2", "3", "g1", "1"});  // version, total, generation, token
  auto reply = Eval("queue_limits", QueueLimitsKeys(), argv);
  ASSERT_EQ(reply.view().size(), 2u) << reply.view().str();
  EXPECT_EQ(reply.view()[0].integer(), 1);  // the share
  EXPECT_EQ(reply.view()[1].integer(), 0);  // the jobs active
  EXPECT_EQ(HGet(q().meta(), "rl"), "2:1000");
  EXPECT_EQ(HGet(q().meta(), "cc"), "1");
  EXPECT_EQ(HGet(q().meta(), "ml"), "4");
  const auto before = Snapshot();
  argv[2] = "9";
  argv[11] = "1";
  auto stale = Eval("queue_limits", QueueLimitsKeys(), argv);
  ASSERT_TRUE(stale.view().is_error());
  EXPECT_EQ(stale.view().str(), "LAYOUT 2");
  argv[10] = "part";
  argv[11] = "2";
  EXPECT_TRUE(Eval("queue_limits", QueueLimitsKeys(), argv).view().is_error());
  argv[10] = "share";
  argv.push_back("x");
  EXPECT_TRUE(Eval("queue_limits", QueueLimitsKeys(), argv).view().is_error());
  argv.pop_back();
  argv.resize(12);  // without a total, a generation and a token: refused
  EXPECT_TRUE(Eval("queue_limits", QueueLimitsKeys(), argv).view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
