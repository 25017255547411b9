// The randomized test of sharded queues (shard_run.h): TASKQ_MODEL_SHARD_SECONDS sets its budget
// (default 30), TASKQ_MODEL_SEED the first seed (default: from the clock; printed either way, so
// a failure can be replayed). The tests with a defect put back run for
// TASKQ_MODEL_DEFECT_SECONDS (default 30) from seed 1.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "broker/scripts.h"
#include "script_swaps.h"
#include "shard_run.h"

namespace taskq::model {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kStepsPerEpisode = 120;

struct Explored {
  ShardRunResult failure;  // failed: the first episode that failed
  uint64_t seed = 0;
  int64_t steps = 0;
  int64_t episodes = 0;
  double seconds = 0;  // until the failure, or the whole budget
  std::map<std::string, int64_t> counts;
};

Explored Explore(testing::RedisServer& server, uint64_t seed, std::chrono::seconds budget) {
  ShardRun run(server);
  Explored out;
  const auto start = Clock::now();
  const auto end = start + budget;
  for (uint64_t episode = 0; Clock::now() < end; ++episode) {
    ShardRunResult result = run.RunEpisode(seed + episode, kStepsPerEpisode);
    ++out.episodes;
    out.steps += result.steps;
    for (const auto& [kind, n] : result.counts) out.counts[kind] += n;
    if (result.failed) {
      out.failure = std::move(result);
      out.seed = seed + episode;
      break;
    }
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

class ShardTest : public ScriptSwapTest {
 protected:
  void ExpectFound(const std::string& defect) {
    ASSERT_FALSE(HasFatalFailure()) << defect << ": the defect could not be put back";
    Explored out =
        Explore(*server_, 1, std::chrono::seconds(EnvInt("TASKQ_MODEL_DEFECT_SECONDS", 30)));
    ASSERT_TRUE(out.failure.failed) << defect << ": not found in " << out.steps << " steps";
    std::printf(
        "shards: defect %s found in %.1f s at step %d of episode seed %llu (%lld steps): %s\n",
        defect.c_str(), out.seconds, out.failure.failed_at_step,
        static_cast<unsigned long long>(out.seed), static_cast<long long>(out.steps),
        out.failure.message.c_str());
  }
};

TEST_F(ShardTest, ShippedScriptsKeepEveryRule) {
  const uint64_t seed = static_cast<uint64_t>(EnvInt(
      "TASKQ_MODEL_SEED", std::chrono::system_clock::now().time_since_epoch().count() % 1000000));
  Explored out =
      Explore(*server_, seed, std::chrono::seconds(EnvInt("TASKQ_MODEL_SHARD_SECONDS", 30)));
  std::printf("shards: steps=%lld seed=%llu episodes=%lld\n", static_cast<long long>(out.steps),
              static_cast<unsigned long long>(seed), static_cast<long long>(out.episodes));
  for (const auto& [kind, n] : out.counts) {
    std::printf("shards:   %-20s %lld\n", kind.c_str(), static_cast<long long>(n));
  }
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
