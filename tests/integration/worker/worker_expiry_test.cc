// EnqueueOptions::expires_at_ms through a real worker: a job claimed after its expiry goes dead
// as expired without running; one claimed before it runs.
#include <atomic>

#include "worker_fixture.h"

namespace taskq::testing {
namespace {

TEST_F(WorkerTest, AnExpiredJobGoesDeadWithoutRunningAndAFreshOneRuns) {
  std::atomic<int> runs{0};
  Worker worker(Options());
  worker.Register("t", [&](JobContext&) {
    ++runs;
    return HandlerResult::Success();
  });
  EnqueueOptions expired;
  expired.expires_at_ms = RedisNowMs() - 1000;
  expired.callback_url = "https://receiver.example/expired";
  const std::string stale = Enqueue("{}", expired);
  EnqueueOptions fresh;
  fresh.expires_at_ms = RedisNowMs() + 600000;
  const std::string ok = Enqueue("{}", fresh);
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitForState(stale, JobState::kDead));
  ASSERT_TRUE(WaitForState(ok, JobState::kCompleted));
  worker.Stop();
  EXPECT_EQ(runs.load(), 1);
  const Job job = GetJob(stale);
  ASSERT_EQ(job.errors.size(), 1u);
  EXPECT_EQ(job.errors[0].message.rfind("expired: not started by ", 0), 0u)
      << job.errors[0].message;
  EXPECT_EQ(job.options.expires_at_ms, expired.expires_at_ms);
  // Its callback reports it dead (relayed into the default callback queue).
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto waiting = inspector_->List("webhook", JobState::kWaiting, 0, 10);
        return waiting.ok() && waiting->size() == 1 &&
               (*waiting)[0].data_json.find("job.dead") != std::string::npos;
      },
      std::chrono::seconds(10)));
}

TEST_F(WorkerTest, AnExpiryNotAfterRunAtIsRefused) {
  EnqueueOptions o;
  o.queue = "q";
  o.run_at_ms = 1800000000000;
  o.expires_at_ms = 1800000000000;
  auto result = client_->Enqueue({"t", "{}", o});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().field(), "expires_at");
}

}  // namespace
}  // namespace taskq::testing
