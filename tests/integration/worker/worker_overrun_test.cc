// The worker and attempt timeouts: a handler that runs past its timeout keeps its job's lease
// until it returns (shown as overrunning), so no retry starts while it runs; cancelling or
// stopping the worker ends such a job even when its handler hangs.
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

// A handler thread cannot be killed: on timeout it is asked to stop, and the job stays active,
// shown as overrunning, with its lease renewed, until the handler returns; only then does the
// attempt fail (its late result discarded).
TEST_F(WorkerTest, TimeoutAsksTheHandlerToStopAndFailsTheAttemptOnceItReturns) {
  std::atomic<bool> saw_stop{false};
  std::atomic<bool> returned{false};
  Worker worker(Options());
  worker.Register("t", [&](JobContext& job) {
    while (!job.stop_requested()) std::this_thread::sleep_for(milliseconds(5));
    saw_stop = true;
    std::this_thread::sleep_for(milliseconds(1500));  // overruns: goes on after the request
    returned = true;
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.timeout = milliseconds(150);
  o.max_attempts = 1;
  std::string id = Enqueue("{}", o);
  ASSERT_TRUE(WaitUntil([&] { return saw_stop.load(); }));
  ASSERT_TRUE(WaitUntil([&] { return GetJob(id).overrunning_since_ms > 0 || returned; }));
  Job running = GetJob(id);
  ASSERT_FALSE(returned.load()) << "the mark came too late to be seen";
  EXPECT_EQ(running.state, JobState::kActive);
  EXPECT_EQ(running.overrun_timeout_ms, 150);
  EXPECT_GE(running.overrunning_since_ms, running.started_ms + 150);
  EXPECT_EQ(inspector_->Counts("q")->overrunning, 1);
  ASSERT_TRUE(WaitForState(id, JobState::kDead));
  EXPECT_TRUE(returned.load());
  worker.Stop();
  Job job = GetJob(id);
  ASSERT_EQ(job.errors.size(), 1u);
  EXPECT_NE(job.errors[0].message.find("timed out after 150 ms"), std::string::npos);
  EXPECT_NE(job.errors[0].message.find("late result was discarded"), std::string::npos);
  EXPECT_EQ(job.result_json, "null");
  EXPECT_EQ(job.overrunning_since_ms, 0);
  ASSERT_FALSE(job.logs.empty());
  EXPECT_NE(job.logs[0].find("not retried until it returns"), std::string::npos);
  auto counts = inspector_->Counts("q");
  EXPECT_EQ(counts->overrunning, 0);
  EXPECT_EQ(counts->overran_total, 1);
}

// A handler that ignores stop requests would keep its overrunning job active (lease renewed) for
// as long as it hangs. Cancelling it gives the lease up: it lapses, and recovery sends the job
// to dead as cancelled, while the hung thread's result is discarded whenever it comes.
TEST_F(WorkerTest, CancellingAnOverrunningJobEndsItEvenIfItsHandlerHangs) {
  std::atomic<bool> let_go{false};
  Worker worker(Options());
  worker.Register("t", [&](JobContext&) {
    while (!let_go) std::this_thread::sleep_for(milliseconds(5));
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.timeout = milliseconds(150);
  std::string id = Enqueue("{}", o);
  ASSERT_TRUE(WaitUntil([&] { return GetJob(id).overrunning_since_ms > 0; }));
  auto outcome = client_->Cancel("q", id);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, RemoveOutcome::kStopRequested);
  ASSERT_TRUE(WaitForState(id, JobState::kDead, std::chrono::seconds(10)));
  Job job = GetJob(id);
  EXPECT_NE(job.errors.at(0).message.find("cancelled"), std::string::npos);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(inspector_->Counts("q")->overrunning, 0);
  let_go = true;
  worker.Stop();
}

// Stopping the worker fails an overrunning attempt as timed out rather than handing it back: a
// handed-back attempt is not counted, so a handler that always hangs would never use up its
// attempts.
TEST_F(WorkerTest, StoppingTheWorkerFailsAnOverrunningAttemptInsteadOfHandingItBack) {
  WorkerOptions options = Options();
  options.shutdown_grace = milliseconds(100);
  Worker worker(options);
  worker.Register("t", [&](JobContext&) {
    std::this_thread::sleep_for(milliseconds(1500));  // ignores the stop request
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.timeout = milliseconds(150);
  o.max_attempts = 1;
  std::string id = Enqueue("{}", o);
  ASSERT_TRUE(WaitUntil([&] { return GetJob(id).overrunning_since_ms > 0; }));
  worker.Stop();
  Job job = GetJob(id);
  EXPECT_EQ(job.state, JobState::kDead);
  EXPECT_EQ(job.attempts, 1);
  ASSERT_EQ(job.errors.size(), 1u);
  EXPECT_NE(job.errors[0].message.find("the worker stopped while the handler still ran"),
            std::string::npos);
  EXPECT_EQ(inspector_->Counts("q")->overrunning, 0);
}

// Regression: a timed-out attempt was failed and retried at once while its handler still ran, so
// two attempts of one job ran together. The retry now starts only once the handler has returned,
// and the lease of an attempt that outlives it is renewed meanwhile (no stall).
TEST_F(WorkerTest, ARetryNeverStartsWhileTheTimedOutAttemptStillRuns) {
  Worker worker(Options("q=4"));
  std::atomic<int> running{0};
  std::atomic<int> most_at_once{0};
  worker.Register("t", [&](JobContext& job) {
    const int now_running = ++running;
    int most = most_at_once.load();
    while (now_running > most && !most_at_once.compare_exchange_weak(most, now_running)) {
    }
    // attempt 1 ignores the stop request for a while; the others outlive the 600 ms lease
    std::this_thread::sleep_for(milliseconds(job.attempt() == 1 ? 700 : 1200));
    --running;
    return HandlerResult::Success("{\"attempt\":" + std::to_string(job.attempt()) + "}");
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.timeout = milliseconds(150);
  o.backoff.type = BackoffType::kNone;
  std::string id = Enqueue("{}", o);
  // Every attempt times out (150 ms) and overruns; after the third the job is dead.
  ASSERT_TRUE(WaitForState(id, JobState::kDead, std::chrono::seconds(15)));
  worker.Stop();
  EXPECT_EQ(most_at_once.load(), 1);
  Job job = GetJob(id);
  EXPECT_EQ(job.stalls, 0);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_EQ(job.errors.size(), 3u);
  EXPECT_EQ(inspector_->Counts("q")->overran_total, 3);
}

}  // namespace
}  // namespace taskq::testing
