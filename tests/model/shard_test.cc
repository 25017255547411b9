// The randomized test of sharded queues (shard_run.h): TASKQ_MODEL_SHARD_SECONDS sets its budget
// (default 30), TASKQ_MODEL_SEED the first seed (default: from the clock; printed either way, so
// a failure can be replayed). The tests with a defect put back run for
// TASKQ_MODEL_DEFECT_SECONDS (default 30) from seed 1.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "broker/scripts.h"
#include "explore.h"
#include "script_swaps.h"
#include "shard_run.h"

namespace taskq::model {
namespace {

constexpr int kStepsPerEpisode = 120;

using Explored = ExploredEpisodes<ShardRunResult>;

Explored Explore(testing::RedisServer& server, uint64_t seed, std::chrono::seconds budget) {
  ShardRun run(server);
  return ExploreEpisodes(run, seed, budget, kStepsPerEpisode);
}

class ShardTest : public ScriptSwapTest {
 protected:
  void ExpectFound(const std::string& defect) {
    ASSERT_FALSE(HasFatalFailure()) << defect << ": the defect could not be put back";
    Explored out =
        Explore(*server_, 1, std::chrono::seconds(EnvInt("TASKQ_MODEL_DEFECT_SECONDS", 30)));
    ASSERT_TRUE(out.failure.failed) << defect << ": not found in " << out.steps << " steps";
    PrintDefectFound("shards", defect, out);
  }
};

TEST_F(ShardTest, ShippedScriptsKeepEveryRule) {
  const uint64_t seed = FirstSeed();
  Explored out =
      Explore(*server_, seed, std::chrono::seconds(EnvInt("TASKQ_MODEL_SHARD_SECONDS", 30)));
  PrintExplored("shards", seed, out);
  ASSERT_FALSE(out.failure.failed) << "seed " << out.seed << " failed at step "
                                   << out.failure.failed_at_step << ": " << out.failure.message;
  for (const char* kind : {"enqueue", "enqueue_bulk", "claim", "finish", "remove", "retry_dead",
                           "promote", "clean", "set_shards", "settle"}) {
    auto it = out.counts.find(kind);
    EXPECT_TRUE(it != out.counts.end() && it->second > 0) << kind << " never ran";
  }
  // Changes went through and were refused, or the layout checks checked little.
  EXPECT_GT(out.counts["set_shards:changed"], 0);
  EXPECT_GT(out.counts["set_shards:refused"], 0);
}

// enqueue.lua and enqueue_one.lua took jobs whatever layout the producer placed them by: a
// producer still placing by an older layout wrote to a shard that is not the job's.
TEST_F(ShardTest, FindsAStaleProducerThatNoShardRefuses) {
  PutBackDefect("enqueue",
                {{"if queue_config[5] ~= (ARGV[3 + 3 * n] or false) then", "if false then"}});
  PutBackDefect("enqueue_one",
                {{"if config[4] ~= (ARGV[4] or false) then return", "if false then return"}});
  ExpectFound("stale producer accepted");
}

// shard_layout.lua skipped its emptiness check: a change went through with jobs waiting or
// running, which then sat on shards where the new layout does not place them (or on a shard it
// dropped, which nothing claims from).
TEST_F(ShardTest, FindsAChangeWithJobsWaiting) {
  PutBackDefect("shard_layout", {{"    if count[2] > 0 then\n", "    if false then\n"}});
  ExpectFound("change with jobs waiting");
}

// shard_layout.lua let a change go through while shards kept completed or dead jobs: on a shard
// dropped nothing reads them again, and on a shard kept an enqueue of one's id is placed on
// another shard and creates the job a second time.
TEST_F(ShardTest, FindsAChangeThatLeavesFinishedJobsBehind) {
  PutBackDefect("shard_layout", {{"{'jobs', redis.call('HLEN', KEYS[8])}, ", ""}});
  ExpectFound("change with finished jobs");
}

}  // namespace
}  // namespace taskq::model
