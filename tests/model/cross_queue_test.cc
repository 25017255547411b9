// The randomized test of flows across queues (cross_queue_run.h): TASKQ_MODEL_XQ_SECONDS sets
// its budget (default 30), TASKQ_MODEL_SEED the first seed (default: from the clock; printed
// either way, so a failure can be replayed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "broker/scripts.h"
#include "cross_queue_run.h"
#include "explore.h"
#include "script_swaps.h"

namespace taskq::model {
namespace {

constexpr int kStepsPerEpisode = 120;

using Explored = ExploredEpisodes<CrossQueueResult>;

Explored Explore(testing::RedisServer& server, uint64_t seed, std::chrono::seconds budget) {
  CrossQueueRun run(server);
  return ExploreEpisodes(run, seed, budget, kStepsPerEpisode);
}

class CrossQueueTest : public ScriptSwapTest {
 protected:
  void ExpectFound(const std::string& defect) {
    ASSERT_FALSE(HasFatalFailure()) << defect << ": the defect could not be put back";
    Explored out =
        Explore(*server_, 1, std::chrono::seconds(EnvInt("TASKQ_MODEL_DEFECT_SECONDS", 30)));
    ASSERT_TRUE(out.failure.failed) << defect << ": not found in " << out.steps << " steps";
    std::printf("cross-queue: defect %s found at step %d of episode seed %llu (%lld steps): %s\n",
                defect.c_str(), out.failure.failed_at_step,
                static_cast<unsigned long long>(out.seed), static_cast<long long>(out.steps),
                out.failure.message.c_str());
  }
};

void ExpectEveryStepRan(const Explored& out) {
  for (const char* kind : {"submit", "work", "retry", "cancel", "relay", "relay_crash", "replay"}) {
    auto it = out.counts.find(kind);
    EXPECT_TRUE(it != out.counts.end() && it->second > 0) << kind << " never ran";
  }
}

TEST_F(CrossQueueTest, ShippedScriptsKeepEveryRule) {
  const uint64_t seed = static_cast<uint64_t>(EnvInt(
      "TASKQ_MODEL_SEED", std::chrono::system_clock::now().time_since_epoch().count() % 1000000));
  Explored out =
      Explore(*server_, seed, std::chrono::seconds(EnvInt("TASKQ_MODEL_XQ_SECONDS", 30)));
  std::printf("cross-queue: steps=%lld seed=%llu episodes=%lld\n",
              static_cast<long long>(out.steps), static_cast<unsigned long long>(seed),
              static_cast<long long>(out.episodes));
  for (const auto& [kind, n] : out.counts) {
    std::printf("cross-queue:   %-12s %lld\n", kind.c_str(), static_cast<long long>(n));
  }
  ASSERT_FALSE(out.failure.failed) << "seed " << out.seed << " failed at step "
                                   << out.failure.failed_at_step << ": " << out.failure.message;
  ExpectEveryStepRan(out);
}

// flow_apply.lua counted a report without checking the epoch the home expects: a report
// applied twice counted twice.
TEST_F(CrossQueueTest, FindsAReportCountedTwice) {
  PutBackDefect("flow_apply", {{"if r.kind == 'ff' and known == r.epoch .. ':p' then",
                                "if r.kind == 'ff' then"}});
  ExpectFound("report counted twice");
}

// flow_deliver.lua wrote a dispatched job without its shadow record's check: a dispatch applied
// again found the job's id taken by itself and reported it dead.
TEST_F(CrossQueueTest, FindsADispatchAppliedTwice) {
  PutBackDefect("flow_deliver",
                {{"if not stale and (g ~= e.gen or not done) then", "if true then"}});
  ExpectFound("dispatch applied twice");
}

// The finishing scripts forgot to report a job of another queue: its parent waited forever.
TEST_F(CrossQueueTest, FindsARemoteFinishNeverReported) {
  for (const char* script : {"complete", "fail"}) {
    PutBackDefect(script, {{"      flow_report_finish(base, h, w.outcome, w.text)\n", "\n"}});
  }
  ExpectFound("remote finish not reported");
}

// Every script stays in the slot of its keys across queues too: the run with every script
// declared "#!lua" on a server in cluster mode (as ModelSlotTest does for one queue).
TEST(CrossQueueSlotTest, EveryScriptStaysInTheSlotOfItsKeys) {
  testing::RedisServer server(ClusterModeServer());
  ASSERT_NO_FATAL_FAILURE(DeclareEveryScriptOnOneNodeCluster(server));
  Explored out = Explore(server, 1, std::chrono::seconds(EnvInt("TASKQ_MODEL_SLOT_SECONDS", 15)));
  broker::RestoreScriptsForTesting();
  ASSERT_FALSE(out.failure.failed) << "seed " << out.seed << " failed at step "
                                   << out.failure.failed_at_step << ": " << out.failure.message;
  EXPECT_GT(out.steps, 100);
  ExpectEveryStepRan(out);
}

}  // namespace
}  // namespace taskq::model
