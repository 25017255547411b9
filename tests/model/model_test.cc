// The randomized model test (docs/reliability.md): random sequences of every state-changing
// operation against a real redis-server through the real broker, checked against the reference
// model after every step. TASKQ_MODEL_SECONDS sets the budget (default 60), TASKQ_MODEL_SEED the
// first seed (default: from the clock; printed either way, so a failure can be replayed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "broker/scripts.h"
#include "model_run.h"
#include "script_swaps.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace taskq::model {
namespace {

using Clock = std::chrono::steady_clock;

std::string Describe(const std::vector<Op>& ops) {
  std::string out;
  for (size_t i = 0; i < ops.size(); ++i) {
    out += "  " + std::to_string(i) + " " + OpName(ops[i].kind) +
           " r=" + std::to_string(ops[i].r[0]) + "," + std::to_string(ops[i].r[1]) + "," +
           std::to_string(ops[i].r[2]) + "\n";
  }
  return out;
}

struct Outcome {
  bool found = false;
  int64_t steps = 0;
  int64_t episodes = 0;
  uint64_t seed = 0;
  int failed_at = -1;
  std::vector<Op> shrunk;
  std::string message;
  std::array<int64_t, static_cast<size_t>(OpKind::kCount)> counts{};
};

// Runs episodes from `seed` on until one fails or the budget is spent; shrinks a failure. Every
// other episode (every one with `seed_every_episode`) starts its priority sequences
// `sequences_below_bound` below their bound. `max_steps` > 0 shortens the episodes.
Outcome Explore(testing::RedisServer& server, uint64_t seed, std::chrono::seconds budget,
                int64_t sequences_below_bound, bool seed_every_episode = false, int max_steps = 0) {
  ModelRun run(server);
  Outcome outcome;
  const auto end = Clock::now() + budget;
  for (uint64_t episode = 0; Clock::now() < end; ++episode) {
    EpisodeOptions options;
    options.seed = seed + episode;
    if (max_steps > 0) options.max_steps = max_steps;
    if (seed_every_episode || episode % 2 == 1) {
      options.start_sequences_below_bound = sequences_below_bound;
    }
    EpisodeResult result = run.RunEpisode(options);
    ++outcome.episodes;
    outcome.steps += static_cast<int64_t>(result.ops.size());
    for (size_t k = 0; k < result.counts.size(); ++k) outcome.counts[k] += result.counts[k];
    if (result.failed) {
      outcome.found = true;
      outcome.seed = options.seed;
      outcome.failed_at = result.failed_at_step;
      outcome.message = result.message;
      outcome.shrunk = run.Shrink(options, result.ops);
      outcome.message += "\n  shrunk: " + run.Replay(options, outcome.shrunk);
      return outcome;
    }
  }
  return outcome;
}

class ModelTest : public ScriptSwapTest {
 protected:
  // Shows that the model test finds a defect within the CI budget and shrinks it.
  void ExpectFound(const std::string& defect, int64_t below_bound = 40,
                   bool seed_every_episode = false, int max_steps = 0) {
    Outcome outcome =
        Explore(*server_, 1, std::chrono::seconds(EnvInt("TASKQ_MODEL_DEFECT_SECONDS", 30)),
                below_bound, seed_every_episode, max_steps);
    ASSERT_TRUE(outcome.found) << defect << ": not found in " << outcome.steps << " steps";
    std::printf(
        "model: defect %s found at step %lld (episode seed %llu, %lld steps run), "
        "shrunk to %zu: %s\n",
        defect.c_str(), static_cast<long long>(outcome.failed_at),
        static_cast<unsigned long long>(outcome.seed), static_cast<long long>(outcome.steps),
        outcome.shrunk.size(), outcome.message.c_str());
    std::printf("%s", Describe(outcome.shrunk).c_str());
    EXPECT_LE(outcome.shrunk.size(), 12u) << "shrinking left a long sequence";
  }
};

TEST_F(ModelTest, ShippedScriptsKeepEveryInvariant) {
  const uint64_t seed = static_cast<uint64_t>(EnvInt(
      "TASKQ_MODEL_SEED", std::chrono::system_clock::now().time_since_epoch().count() % 1000000));
  const auto budget = std::chrono::seconds(EnvInt("TASKQ_MODEL_SECONDS", 60));
  Outcome outcome = Explore(*server_, seed, budget, 40);
  std::printf("model: steps=%lld seed=%llu episodes=%lld\n", static_cast<long long>(outcome.steps),
              static_cast<unsigned long long>(seed), static_cast<long long>(outcome.episodes));
  for (size_t k = 0; k < outcome.counts.size(); ++k) {
    std::printf("model:   %-20s %lld\n", OpName(static_cast<OpKind>(k)),
                static_cast<long long>(outcome.counts[k]));
  }
  ASSERT_FALSE(outcome.found) << "seed " << outcome.seed << " failed at step " << outcome.failed_at
                              << ": " << outcome.message << "\n"
                              << Describe(outcome.shrunk);
  for (size_t k = 0; k < outcome.counts.size(); ++k) {
    EXPECT_GT(outcome.counts[k], 0) << OpName(static_cast<OpKind>(k)) << " never ran";
  }
}

// Every script stays in the slot of the keys it is given (Redis Cluster runs a script on the master
// of that slot, where the keys of other slots are not). Redis checks it for scripts that declare
// themselves with a "#!lua" first line: such a script that touches a key of another slot fails.
// So the model runs here with every script so declared, on a server in cluster mode that serves
// every slot itself: any key a script derives outside its queue's hash tag fails the run.
TEST(ModelSlotTest, EveryScriptStaysInTheSlotOfItsKeys) {
  testing::RedisServer server(ClusterModeServer());
  ASSERT_NO_FATAL_FAILURE(DeclareEveryScriptOnOneNodeCluster(server));
  // The check has teeth: a declared script that reaches into another slot fails.
  const broker::Reply crossing = server.Run(
      {"EVAL", "#!lua\nredis.call('GET', KEYS[1])\nreturn redis.call('GET', '{other}:k')", "1",
       "taskq:{q}:meta"});
  ASSERT_TRUE(crossing.view().is_error());
  EXPECT_NE(crossing.view().str().find("same slot"), std::string_view::npos)
      << crossing.view().str();
  const auto budget = std::chrono::seconds(EnvInt("TASKQ_MODEL_SLOT_SECONDS", 15));
  Outcome outcome = Explore(server, 1, budget, 40);
  broker::RestoreScriptsForTesting();
  ASSERT_FALSE(outcome.found) << "seed " << outcome.seed << " failed at step " << outcome.failed_at
                              << ": " << outcome.message << "\n"
                              << Describe(outcome.shrunk);
  EXPECT_GT(outcome.steps, 100);
}

// The instrument's strength: copies of the scripts with known defects put back are found and
// shrunk. The shipped scripts stay as they are.

// retry_dead.lua removed the ids from dead before an unpack that fails past a few thousand ids.
TEST_F(ModelTest, FindsRetryDeadThatLosesJobsPastTheUnpackLimit) {
  PutBackDefect("retry_dead", {{"local records = read_in_parts('HMGET', KEYS[5], ids)",
                                "call_in_parts('ZREM', KEYS[1], ids)\n"
                                "local records = redis.call('HMGET', KEYS[5], unpack(ids))"},
                               {"call_in_parts('HSET', KEYS[5], states)",
                                "redis.call('HSET', KEYS[5], unpack(states))"}});
  ExpectFound("retry_dead unpack");
}

// requeue.lua wrapped the tail offset at 2^31. Only jobs queued on both sides of the wrap, waiting
// together, show it; so every episode starts its sequences 1 below the bound and runs 30 steps,
// and many short episodes give many chances.
TEST_F(ModelTest, FindsSequenceThatWrapsAndSortsNewJobsFirst) {
  const std::vector<std::pair<std::string, std::string>> wrap = {
      {"if seq + n_scored > kOffsetLimit then", "if false then"},
      {"offset = seq + k + 1", "offset = (seq + k + 1) % 2147483648"}};
  for (const char* script : {"enqueue", "claim", "recover", "release", "retry_dead", "promote"}) {
    PutBackDefect(script, wrap);
  }
  ExpectFound("sequence wrap", 1, /*seed_every_episode=*/true, /*max_steps=*/30);
}

// claim.lua took a negative promote limit as "no limit".
TEST_F(ModelTest, FindsClaimThatAcceptsANegativePromoteLimit) {
  PutBackDefect("claim", {{"or not promote_limit or promote_limit < 1 or promote_limit > 1000",
                           "or not promote_limit"}});
  ExpectFound("negative promote limit");
}

// fail.lua sent a job with a completion callback to dead without its outbox entry: the callback
// was lost.
TEST_F(ModelTest, FindsFailThatForgetsADeadJobsCallback) {
  PutBackDefect("fail", {{"hooks_finished(base, hooked, 'dead', now_s, details)", ""}});
  ExpectFound("dead job's callback forgotten");
}

// enqueue.lua let a batch take the queue one job past its maximum length.
TEST_F(ModelTest, FindsEnqueueThatPassesTheMaximumLength) {
  PutBackDefect("enqueue",
                {{"backlog + adding > max_length", "backlog + adding > max_length + 1"}});
  ExpectFound("maximum length passed by one");
}

// enqueue.lua queued LIFO jobs at the tail.
TEST_F(ModelTest, FindsLifoJobsQueuedAtTheTail) {
  PutBackDefect("enqueue", {{"first, first_priorities, true, first_groups",
                             "first, first_priorities, false, first_groups"}});
  ExpectFound("LIFO at the tail");
}

// state_page.lua resumed at the cursor's own job rather than after it: a page repeated it.
TEST_F(ModelTest, FindsStatePageThatRepeatsTheCursorsJob) {
  PutBackDefect("state_page", {{"start = before + (present and 1 or 0)", "start = before"}});
  ExpectFound("page repeats its cursor's job");
}

// remove.lua took a flow's waiting child away without counting it: its parent waited forever.
TEST_F(ModelTest, FindsRemoveThatForgetsAFlowsChild) {
  PutBackDefect("remove", {{"  flow_count(ctx, id, h, 'dead', err)\n", "\n"}});
  ExpectFound("removed child not counted");
}

// complete.lua released a parent while one of its children was still to finish.
TEST_F(ModelTest, FindsParentReleasedBeforeItsLastChild) {
  PutBackDefect("complete", {{"(join_fatal(join) or join.pending <= 0)",
                              "(join_fatal(join) or join.pending <= 1)"}});
  ExpectFound("parent released early");
}

// complete.lua counted a batch's members in its cached join and never wrote the join back.
TEST_F(ModelTest, FindsBatchCountsThatAreNeverWritten) {
  PutBackDefect("complete", {{"  flush()\n  ctx.work = {}", "  ctx.work = {}"}});
  ExpectFound("batch counts lost");
}

// fail.lua let a batch's on_success wait past its first member's death. The defect shows at
// step 150 of an episode; episodes of 160 steps reach it within the time budget on a slow host.
TEST_F(ModelTest, FindsOnSuccessThatOutlivesADeath) {
  PutBackDefect("fail", {{"(join.st == 'w' and join_fatal(join)) or", "false or"}});
  ExpectFound("on_success not failed at the first death", 40, false, /*max_steps=*/160);
}

}  // namespace
}  // namespace taskq::model
