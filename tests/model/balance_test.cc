// The randomized test of the balance of a sharded queue's concurrency (balance_run.h):
// TASKQ_MODEL_BALANCE_SECONDS sets its budget (default 20), TASKQ_MODEL_SEED the first seed
// (default: from the clock; printed either way, so a failure can be replayed). The tests with a
// defect put back run for TASKQ_MODEL_DEFECT_SECONDS (default 30) from seed 1.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "balance_run.h"
#include "explore.h"
#include "script_swaps.h"

namespace taskq::model {
namespace {

constexpr int kStepsPerEpisode = 150;

using Explored = ExploredEpisodes<BalanceRunResult>;

Explored Explore(testing::RedisServer& server, uint64_t seed, std::chrono::seconds budget) {
  BalanceRun run(server);
  return ExploreEpisodes(run, seed, budget, kStepsPerEpisode);
}

class BalanceTest : public ScriptSwapTest {
 protected:
  void ExpectFound(const std::string& defect) {
    ASSERT_FALSE(HasFatalFailure()) << defect << ": the defect could not be put back";
    Explored out =
        Explore(*server_, 1, std::chrono::seconds(EnvInt("TASKQ_MODEL_DEFECT_SECONDS", 30)));
    ASSERT_TRUE(out.failure.failed) << defect << ": not found in " << out.steps << " steps";
    PrintDefectFound("balance", defect, out);
  }
};

TEST_F(BalanceTest, ShippedScriptsKeepEveryRule) {
  const uint64_t seed = FirstSeed();
  Explored out =
      Explore(*server_, seed, std::chrono::seconds(EnvInt("TASKQ_MODEL_BALANCE_SECONDS", 20)));
  PrintExplored("balance", seed, out);
  ASSERT_FALSE(out.failure.failed) << "seed " << out.seed << " failed at step "
                                   << out.failure.failed_at_step << ": " << out.failure.message;
  // Each kind of step ran, and stale balancers were both refused and let through, or the
  // fencing checks checked little.
  for (const char* kind : {"enqueue", "claim", "complete", "balance", "interrupted", "stale_read",
                           "stale_move", "set_limits", "stale_move:refused", "stale_move:accepted",
                           "set_limits:same", "set_limits:new", "set_limits:below_running"}) {
    EXPECT_GT(out.counts[kind], 0) << kind << " never happened";
  }
}

// share_move.lua's give lowered a share to 1 whatever ran on its shard: the shard then ran more
// than its share, and the share handed to the others let the queue run more than its limit.
TEST_F(BalanceTest, FindsAGiveBelowTheActiveJobs) {
  PutBackDefect("share_move", {{"local lowest = math.max(active, 1)", "local lowest = 1"}});
  ExpectFound("give below the active jobs");
}

// share_move.lua took the calls of any balancer: one that read before a newer balance moved
// shares by what it read, handing out a slot the newer one had handed out already.
TEST_F(BalanceTest, FindsAStaleBalancerThatIsNotFenced) {
  PutBackDefect(
      "share_move",
      {{"if token < fence then return redis.error_reply('FENCED ' .. meta[1]) end\n", ""}});
  ExpectFound("stale balancer not fenced");
}

}  // namespace
}  // namespace taskq::model
