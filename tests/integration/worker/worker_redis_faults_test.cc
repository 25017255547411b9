// The worker when Redis misbehaves under it: part of a round trip refused, Redis frozen past a
// lease, a claim whose reply was lost.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "broker/scripts.h"
#include "worker_fixture.h"

namespace taskq::testing {
namespace {
using std::chrono::milliseconds;

// Regression: when Redis refused one part of a round trip (here completions, refused while Redis
// is out of memory), the jobs claimed by the same round trip were dropped and only came back
// after their leases expired, as stalls.
TEST_F(WorkerTest, ClaimIsUsedWhenAnotherPartOfTheRoundTripIsRefused) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(Enqueue());
  ASSERT_TRUE(inspector_->Pause("q").ok());
  WorkerOptions options = Options("q=4");
  options.lease = std::chrono::seconds(5);
  Worker worker(options);
  std::atomic<int> runs{0};
  worker.Register(
      "t",
      [&](JobContext&) {
        ++runs;
        return HandlerResult::Success();
      },
      HandlerOptions{.run_inline = true});
  ASSERT_TRUE(worker.Start().ok());
  // Over maxmemory, Redis refuses a script whose first write may grow memory (complete's HSET)
  // but not one whose first write frees it (claim's LPOP).
  server_->Run({"CONFIG", "SET", "maxmemory", "1"});
  ASSERT_TRUE(inspector_->Resume("q").ok());
  ASSERT_TRUE(WaitUntil([&] { return runs.load() >= 8; }));
  EXPECT_EQ(inspector_->Counts("q")->completed, 0);  // results wait in the worker's outbox
  server_->Run({"CONFIG", "SET", "maxmemory", "0"});
  for (const std::string& id : ids) ASSERT_TRUE(WaitForState(id, JobState::kCompleted)) << id;
  worker.Stop();
  for (const std::string& id : ids) EXPECT_EQ(GetJob(id).stalls, 0) << id;
  EXPECT_EQ(runs.load(), 20);
}

// A worker cut off from Redis (frozen: no reply, no error) cannot renew its leases. It must stop
// its handlers by itself before the leases expire in Redis, where another worker may take the
// jobs: waiting for an extend reply to say "lost" would run each job twice at the same time.
TEST_F(WorkerTest, HandlerIsStoppedWhenItsLeaseCannotBeRenewed) {
  WorkerOptions options = Options("q=1");
  options.lease = milliseconds(1500);
  Worker worker(options);
  std::atomic<bool> running{false};
  std::atomic<bool> stopped{false};
  std::atomic<int> attempts{0};
  worker.Register("t", [&](JobContext& job) {
    if (++attempts > 1) return HandlerResult::Success();
    running = true;
    while (!job.stop_requested()) std::this_thread::sleep_for(milliseconds(5));
    stopped = true;
    return HandlerResult::Retry("stopped");
  });
  ASSERT_TRUE(worker.Start().ok());
  const std::string id = Enqueue();
  ASSERT_TRUE(WaitUntil([&] { return running.load(); }));
  server_->Freeze();
  const auto frozen = std::chrono::steady_clock::now();
  const bool stopped_while_frozen =
      WaitUntil([&] { return stopped.load(); }, std::chrono::seconds(5));
  const auto waited = std::chrono::steady_clock::now() - frozen;
  server_->Thaw();
  ASSERT_TRUE(stopped_while_frozen) << "the handler ran on with no renewal for 5 s";
  // Asked to stop three quarters of a lease after the last renewal was sent (at most lease/3
  // before the freeze), checked every lease/10: before the lease can have expired in Redis.
  EXPECT_LT(waited, options.lease);
  // Nothing is lost: the lease expires in Redis, the job is recovered and runs again.
  ASSERT_TRUE(WaitForState(id, JobState::kCompleted, std::chrono::seconds(10)));
  worker.Stop();
  EXPECT_EQ(attempts.load(), 2);
  EXPECT_EQ(GetJob(id).stalls, 1);
}

// Regression: when a claim's reply was lost (Redis ran the claim, the worker never heard back),
// its jobs stayed active until their leases expired and each counted a stall; three such losses
// dead-lettered a job that never ran. The worker now hands them back once Redis answers again.
TEST_F(WorkerTest, JobsOfAClaimWhoseReplyWasLostComeBackWithoutAStall) {
  // The claim script, made to take 1 s once after claiming: its reply comes after the job loop's
  // reply timeout (a third of the lease), so the loop gives the round trip up as failed.
  const std::string slow_claim =
      "local function claim()\n" + std::string(broker::ScriptNamed("claim").body) +
      "\nend\n"
      "local out = claim()\n"
      "if type(out) == 'table' and out[5] and out[5] > 0 and "
      "redis.call('GETDEL', KEYS[6] .. ':slow') then\n"
      "  local t = redis.call('TIME')\n"
      "  local start = t[1] * 1000000 + t[2]\n"
      "  repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 1000000\n"
      "end\n"
      "return out\n";
  auto sha = server_->Run({"SCRIPT", "LOAD", slow_claim});
  ASSERT_FALSE(sha.view().is_error()) << sha.view().str();
  broker::ReplaceScriptForTesting("claim", slow_claim, std::string(sha.view().str()));
  struct Restore {
    ~Restore() { broker::RestoreScriptsForTesting(); }
  } restore;
  server_->Run({"SET", "taskq:{q}:meta:slow", "1"});

  WorkerOptions options = Options("q=1");
  options.lease = milliseconds(1500);
  Worker worker(options);
  std::atomic<int> runs{0};
  worker.Register("t", [&](JobContext&) {
    ++runs;
    return HandlerResult::Success();
  });
  const std::string id = Enqueue();
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitForState(id, JobState::kCompleted, std::chrono::seconds(10)));
  worker.Stop();
  EXPECT_FALSE(server_->Run({"EXISTS", "taskq:{q}:meta:slow"}).view().integer())
      << "the slow claim never ran";
  const Job job = GetJob(id);
  EXPECT_EQ(job.stalls, 0);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace taskq::testing
