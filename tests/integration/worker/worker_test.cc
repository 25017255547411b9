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

TEST_F(WorkerTest, RunsInPriorityOrderFifoWithinPriority) {
  std::vector<std::string> ids;
  for (int priority : {5, 0, -2, 0, 5, -2, 1}) {
    EnqueueOptions o;
    o.priority = priority;
    ids.push_back(Enqueue("{\"p\":" + std::to_string(priority) + "}", o));
  }
  std::mutex mu;
  std::vector<std::string> order;
  Worker worker(Options("q=1"));
  worker.Register("t", [&](JobContext& job) {
    std::lock_guard lock(mu);
    order.push_back(job.id());
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard lock(mu);
    return order.size() == ids.size();
  }));
  worker.Stop();
  EXPECT_EQ(order,
            (std::vector<std::string>{ids[2], ids[5], ids[1], ids[3], ids[6], ids[0], ids[4]}));
}

TEST_F(WorkerTest, DelayedJobStartsNoEarlierThanDueAndWithin100Ms) {
  std::atomic<int64_t> started_ms{0};
  Worker worker(Options());
  worker.Register("t", [&](JobContext&) {
    started_ms = RedisNowMs();
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  std::this_thread::sleep_for(milliseconds(100));  // the worker is idle and waiting
  EnqueueOptions o;
  o.delay = milliseconds(400);
  std::string id = Enqueue("{}", o);
  const int64_t due = GetJob(id).created_ms + 400;
  ASSERT_TRUE(WaitForState(id, JobState::kCompleted));
  worker.Stop();
  EXPECT_GE(started_ms.load(), due);
  EXPECT_LE(started_ms.load(), due + 100);
}

// An idle queue loop waits on its own wake subscription: a job enqueued to any of the worker's
// queues starts at once, long before the idle poll, also after Redis dropped the subscriptions
// (the loop subscribes again and looks for work it may have missed).
TEST_F(WorkerTest, IdleQueuesStartNewJobsAtOnceAlsoAfterTheSubscriptionDropped) {
  std::mutex mu;
  std::vector<int64_t> waits_ms;  // start minus enqueue, Redis ms
  WorkerOptions options = Options("q=2,other=2");
  options.idle_poll = std::chrono::seconds(60);
  // Neither heartbeats (lease / 3) nor recovery passes may wake it either.
  options.lease = std::chrono::seconds(30);
  options.recover_interval = std::chrono::seconds(60);
  Worker worker(options);
  worker.Register("t", [&](JobContext& job) {
    std::lock_guard lock(mu);
    waits_ms.push_back(RedisNowMs() - std::stoll(job.data_json().substr(5)));
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  auto enqueue_and_wait = [&](const std::string& queue) {
    std::this_thread::sleep_for(milliseconds(300));  // idle and waiting
    EnqueueOptions o;
    o.queue = queue;
    const std::string id = Enqueue("{\"t\":" + std::to_string(RedisNowMs()) + "}", o);
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto job = client_->Get(queue, id);
          return job.ok() && job->has_value() && (*job)->state == JobState::kCompleted;
        },
        std::chrono::seconds(5)));
  };
  enqueue_and_wait("q");
  enqueue_and_wait("other");
  auto killed = server_->Run({"CLIENT", "KILL", "TYPE", "pubsub"});
  EXPECT_EQ(killed.view().integer(), 2);  // one subscription per queue loop
  enqueue_and_wait("q");                  // found by the look after subscribing again, or woken
  enqueue_and_wait("q");                  // woken through the new subscription
  enqueue_and_wait("other");
  worker.Stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(waits_ms.size(), 5u);
  for (int64_t wait : waits_ms) EXPECT_LT(wait, 500);  // the idle poll is 60 s
}

TEST_F(WorkerTest, RetriesFollowTheBackoffPolicyThenTheJobIsDead) {
  std::mutex mu;
  std::vector<int64_t> starts;
  Worker worker(Options());
  worker.Register("t", [&](JobContext& job) {
    std::lock_guard lock(mu);
    starts.push_back(RedisNowMs());
    return HandlerResult::Retry("boom " + std::to_string(job.attempt()));
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.max_attempts = 4;
  o.backoff = {BackoffType::kExponential, milliseconds(100), milliseconds(300), 0.0};
  std::string id = Enqueue("{}", o);
  ASSERT_TRUE(WaitForState(id, JobState::kDead));
  worker.Stop();
  ASSERT_EQ(starts.size(), 4u);
  const int64_t expected[] = {100, 200, 300};  // doubled, then capped
  for (int i = 0; i < 3; ++i) {
    EXPECT_GE(starts[i + 1] - starts[i], expected[i]) << i;
    EXPECT_LE(starts[i + 1] - starts[i], expected[i] + 100) << i;
  }
  Job job = GetJob(id);
  EXPECT_EQ(job.attempts, 4);
  ASSERT_EQ(job.errors.size(), 4u);
  EXPECT_EQ(job.errors[0].attempt, 4);  // newest first
  EXPECT_NE(job.errors[0].message.find("boom 4"), std::string::npos);
  EXPECT_GT(job.finished_ms, 0);
}

TEST_F(WorkerTest, RetryAfterReplacesTheBackoffDelay) {
  std::mutex mu;
  std::vector<int64_t> starts;
  Worker worker(Options());
  worker.Register("t", [&](JobContext&) {
    std::lock_guard lock(mu);
    starts.push_back(RedisNowMs());
    return HandlerResult::RetryAfter("429 Too Many Requests", milliseconds(400));
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.max_attempts = 2;
  o.backoff = {BackoffType::kFixed, milliseconds(1), milliseconds(1), 0.0};
  std::string id = Enqueue("{}", o);
  ASSERT_TRUE(WaitForState(id, JobState::kDead));
  worker.Stop();
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_GE(starts[1] - starts[0], 400);  // not the 1 ms backoff
  EXPECT_LE(starts[1] - starts[0], 500);
  EXPECT_EQ(GetJob(id).errors.at(0).message, "429 Too Many Requests");
}

// A rate-limited attempt is not a failed one: with max_attempts 1, two "come back later" answers
// still leave the job its one attempt, and it completes.
TEST_F(WorkerTest, RateLimitedAttemptsAreNotCountedAndTheJobCompletes) {
  std::mutex mu;
  std::vector<int64_t> starts;
  std::vector<int32_t> attempts;
  Worker worker(Options());
  worker.Register("t", [&](JobContext& job) {
    std::lock_guard lock(mu);
    starts.push_back(RedisNowMs());
    attempts.push_back(job.attempt());
    if (starts.size() <= 2) return HandlerResult::RateLimited(milliseconds(300), "429 slow down");
    return HandlerResult::Success("\"sent\"");
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.max_attempts = 1;
  std::string id = Enqueue("{}", o);
  ASSERT_TRUE(WaitForState(id, JobState::kCompleted));
  worker.Stop();
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_EQ(attempts, (std::vector<int32_t>{1, 1, 1}));
  for (int i = 0; i < 2; ++i) {
    EXPECT_GE(starts[i + 1] - starts[i], 300) << i;  // waited as asked
    EXPECT_LE(starts[i + 1] - starts[i], 400) << i;
  }
  Job job = GetJob(id);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.result_json, "\"sent\"");
  EXPECT_TRUE(job.errors.empty());  // nothing failed
  ASSERT_EQ(job.logs.size(), 2u);
  EXPECT_EQ(job.logs[0], "rate limited; runs again in 300 ms: 429 slow down");
  auto counts = inspector_->Counts("q");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->failed_total, 0);
  EXPECT_EQ(counts->completed_total, 1);
}

// While it waits, a rate-limited job shows as delayed with its due time.
TEST_F(WorkerTest, RateLimitedJobIsDelayedUntilItsTime) {
  std::atomic<int> runs{0};
  Worker worker(Options());
  worker.Register("t", [&](JobContext&) {
    ++runs;
    return HandlerResult::RateLimited(std::chrono::minutes(10));
  });
  ASSERT_TRUE(worker.Start().ok());
  std::string id = Enqueue();
  ASSERT_TRUE(WaitForState(id, JobState::kDelayed));
  const int64_t now = RedisNowMs();
  worker.Stop();
  Job job = GetJob(id);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_GT(job.due_ms, now + 9 * 60 * 1000);
  // A due time rounds Redis' clock up to the next whole ms, so it may pass `now` (read in the
  // same ms, rounded down) by one.
  EXPECT_LE(job.due_ms, now + 10 * 60 * 1000 + 1);
  EXPECT_EQ(job.logs, (std::vector<std::string>{"rate limited; runs again in 600000 ms"}));
}

TEST_F(WorkerTest, TimingHistogramsReachRedisWithTheHeartbeat) {
  WorkerOptions options = Options();
  options.heartbeat_interval = milliseconds(50);
  Worker worker(options);
  worker.Register("t", [](JobContext&) {
    std::this_thread::sleep_for(milliseconds(30));
    return HandlerResult::Success();
  });
  worker.Register("u", [](JobContext&) { return HandlerResult::Fail("no"); });
  ASSERT_TRUE(worker.Start().ok());
  std::vector<std::string> ids = {Enqueue(), Enqueue(), Enqueue(), Enqueue("{}", {}, "u")};
  for (const auto& id : ids)
    ASSERT_TRUE(WaitUntil([&] {
      Job job = GetJob(id);
      return job.state == JobState::kCompleted || job.state == JobState::kDead;
    }));
  worker.Stop();  // sends what the last beat did not
  auto timings = inspector_->Timings("q");
  ASSERT_TRUE(timings.ok()) << timings.status().ToString();
  const TimingHistogram& t = timings->processing.at("t");
  EXPECT_EQ(t.count, 3);
  EXPECT_GE(t.sum_ms, 3 * 30);
  ASSERT_FALSE(t.bounds_ms.empty());
  int64_t in_buckets = t.overflow;
  for (size_t i = 0; i < t.counts.size(); ++i) {
    in_buckets += t.counts[i];
    if (t.counts[i] > 0) {
      EXPECT_GE(t.bounds_ms[i], 30);  // none ran faster than 30 ms
    }
  }
  EXPECT_EQ(in_buckets, 3);
  EXPECT_EQ(timings->processing.at("u").count, 1);  // failed attempts count too
  EXPECT_EQ(timings->wait.at("t").count, 3);
  EXPECT_EQ(timings->wait.at("u").count, 1);
}

TEST_F(WorkerTest, PermanentFailureIsDeadAtOnce) {
  Worker worker(Options());
  worker.Register("t", [](JobContext&) { return HandlerResult::Fail("bad address"); });
  ASSERT_TRUE(worker.Start().ok());
  std::string failed = Enqueue("{}");
  ASSERT_TRUE(WaitForState(failed, JobState::kDead));
  worker.Stop();
  EXPECT_EQ(GetJob(failed).attempts, 1);
}

// A type limited to some queues (HandlerOptions::queues) is not run from another one, where it
// would get that queue's concurrency, limits and isolation: the job goes dead, saying why.
TEST_F(WorkerTest, ATypeRunsOnlyFromTheQueuesConfiguredForIt) {
  std::atomic<int> runs{0};
  Worker worker(Options("q=2,reports=1"));
  HandlerOptions only_reports;
  only_reports.queues = {"reports"};
  worker.Register(
      "report",
      [&](JobContext&) {
        ++runs;
        return HandlerResult::Success();
      },
      only_reports);
  ASSERT_TRUE(worker.Start().ok());
  const std::string misplaced = Enqueue("{}", {}, "report");  // queue q
  EnqueueOptions in_reports;
  in_reports.queue = "reports";
  const std::string placed = Enqueue("{}", in_reports, "report");
  ASSERT_TRUE(WaitForState(misplaced, JobState::kDead));
  ASSERT_TRUE(WaitUntil([&] { return GetJob(placed, "reports").state == JobState::kCompleted; }));
  worker.Stop();
  EXPECT_EQ(runs.load(), 1);
  const Job dead = GetJob(misplaced);
  EXPECT_EQ(dead.attempts, 1);
  ASSERT_EQ(dead.errors.size(), 1u);
  EXPECT_NE(
      dead.errors[0].message.find("jobs of type 'report' do not run from queue 'q' (this worker "
                                  "runs them from reports)"),
      std::string::npos)
      << dead.errors[0].message;
}

// In a rolling deploy, older workers meet job types only newer ones handle. A worker without the
// handler hands the job back (no attempt, no stall, backing off from 1 s), and a worker that has
// the handler runs it.
TEST_F(WorkerTest, UnknownTypeIsHandedBackUntilAWorkerWithItsHandlerRunsIt) {
  Worker old_worker(Options());
  old_worker.Register("t", [](JobContext&) { return HandlerResult::Success(); });
  ASSERT_TRUE(old_worker.Start().ok());
  const std::string id = Enqueue("{}", {}, "new-type");
  ASSERT_TRUE(WaitUntil([&] { return GetJob(id).state == JobState::kDelayed; }));
  Job job = GetJob(id);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.stalls, 0);
  EXPECT_TRUE(job.errors.empty());
  ASSERT_FALSE(job.logs.empty());
  EXPECT_EQ(job.logs.back().rfind("handed back 1 time(s), due again in 1000 ms: no handler for "
                                  "job type 'new-type' on worker ",
                                  0),
            0u)
      << job.logs.back();
  EXPECT_GT(job.due_ms, 0);

  // Stopped first: with both running, the old worker may win the claim several times in a row,
  // each hand-back doubling the backoff, and the test would measure that race.
  old_worker.Stop();
  std::atomic<int> runs{0};
  Worker new_worker(Options());
  new_worker.Register("new-type", [&](JobContext& j) {
    ++runs;
    EXPECT_EQ(j.attempt(), 1);  // the hand-backs used no attempt
    return HandlerResult::Success();
  });
  ASSERT_TRUE(new_worker.Start().ok());
  ASSERT_TRUE(WaitForState(id, JobState::kCompleted, std::chrono::seconds(20)));
  new_worker.Stop();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(GetJob(id).stalls, 0);
}

TEST_F(WorkerTest, ExceptionCountsAsRetryableFailure) {
  std::atomic<int> calls{0};
  Worker worker(Options());
  worker.Register("t", [&](JobContext&) -> HandlerResult {
    if (++calls == 1) throw std::runtime_error("transient");
    return HandlerResult::Success(R"({"ok":true})");
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.backoff.type = BackoffType::kNone;
  std::string id = Enqueue("{}", o);
  ASSERT_TRUE(WaitForState(id, JobState::kCompleted));
  worker.Stop();
  Job job = GetJob(id);
  EXPECT_EQ(job.attempts, 2);
  EXPECT_EQ(job.result_json, R"({"ok":true})");
  EXPECT_NE(job.errors.at(0).message.find("handler threw: transient"), std::string::npos);
}

TEST_F(WorkerTest, ProgressAndLogsAreStored) {
  Worker worker(Options());
  worker.Register("t", [&](JobContext& job) {
    job.Log("step one");
    job.SetProgress(R"({"done":1,"total":2})");
    job.Log("step two");
    std::this_thread::sleep_for(milliseconds(50));  // let a round trip carry them
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  std::string id = Enqueue();
  ASSERT_TRUE(WaitForState(id, JobState::kCompleted));
  worker.Stop();
  Job job = GetJob(id);
  EXPECT_EQ(job.progress_json, R"({"done":1,"total":2})");
  EXPECT_EQ(job.logs, (std::vector<std::string>{"step one", "step two"}));
}

TEST_F(WorkerTest, PauseHoldsJobsAndResumeReleasesThem) {
  ASSERT_TRUE(inspector_->Pause("q").ok());
  std::atomic<int> done{0};
  Worker worker(Options());
  worker.Register("t", [&](JobContext&) {
    ++done;
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  std::string id = Enqueue();
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(done.load(), 0);
  EXPECT_EQ(GetJob(id).state, JobState::kWaiting);
  EXPECT_TRUE(inspector_->Counts("q")->paused);
  ASSERT_TRUE(inspector_->Resume("q").ok());
  EXPECT_TRUE(WaitForState(id, JobState::kCompleted, milliseconds(1000)));
  worker.Stop();
}

TEST_F(WorkerTest, CancellingAnActiveJobStopsItWithoutRetry) {
  std::atomic<bool> running{false};
  Worker worker(Options());
  worker.Register("t", [&](JobContext& job) {
    running = true;
    while (!job.stop_requested()) std::this_thread::sleep_for(milliseconds(5));
    return HandlerResult::Retry("interrupted");
  });
  ASSERT_TRUE(worker.Start().ok());
  std::string id = Enqueue();
  ASSERT_TRUE(WaitUntil([&] { return running.load(); }));
  auto outcome = client_->Cancel("q", id);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, RemoveOutcome::kStopRequested);
  ASSERT_TRUE(WaitForState(id, JobState::kDead));
  worker.Stop();
  EXPECT_NE(GetJob(id).errors.at(0).message.find("cancelled"), std::string::npos);
  EXPECT_EQ(GetJob(id).attempts, 1);
}

TEST_F(WorkerTest, GracefulStopHandsBackRunningJobsWithoutCountingTheAttempt) {
  std::atomic<bool> running{false};
  WorkerOptions options = Options();
  options.shutdown_grace = milliseconds(100);
  Worker worker(options);
  worker.Register("t", [&](JobContext& job) {
    running = true;
    while (!job.stop_requested()) std::this_thread::sleep_for(milliseconds(5));
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  std::string id = Enqueue();
  ASSERT_TRUE(WaitUntil([&] { return running.load(); }));
  worker.Stop();
  Job job = GetJob(id);
  EXPECT_EQ(job.state, JobState::kWaiting);  // at once, not after the lease expires
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(inspector_->Counts("q")->active, 0);

  Worker second(Options());
  second.Register("t", [](JobContext&) { return HandlerResult::Success(); });
  ASSERT_TRUE(second.Start().ok());
  EXPECT_TRUE(WaitForState(id, JobState::kCompleted));
  second.Stop();
}

TEST_F(WorkerTest, GracefulStopLetsShortJobsFinish) {
  WorkerOptions options = Options("q=8");
  Worker worker(options);
  worker.Register("t", [&](JobContext&) {
    std::this_thread::sleep_for(milliseconds(200));
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(Enqueue());
  ASSERT_TRUE(WaitUntil([&] { return inspector_->Counts("q")->active == 8; }));
  worker.Stop();
  for (const std::string& id : ids) EXPECT_EQ(GetJob(id).state, JobState::kCompleted) << id;
}

TEST_F(WorkerTest, ManyJobsAcrossTwoWorkersEachCompleteOnce) {
  constexpr int kJobs = 2000;
  std::vector<EnqueueRequest> batch(kJobs, EnqueueRequest{"t", "{}", {}});
  for (auto& r : batch) r.options.queue = "q";
  auto enqueued = client_->EnqueueBulk(batch);
  ASSERT_TRUE(enqueued.ok());
  std::mutex mu;
  std::map<std::string, int> runs;
  auto handler = [&](JobContext& job) {
    std::lock_guard lock(mu);
    ++runs[job.id()];
    return HandlerResult::Success();
  };
  Worker a(Options("q=8"));
  Worker b(Options("q=8"));
  a.Register("t", handler);
  b.Register("t", handler);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return inspector_->Counts("q")->completed_total == kJobs; }));
  EXPECT_EQ(inspector_->Counts("q")->completed, 1000);  // the default retention keeps 1000
  a.Stop();
  b.Stop();
  EXPECT_EQ(runs.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(a.stats().completed + b.stats().completed, kJobs);
  // batching: far fewer round trips than jobs
  EXPECT_LT(a.stats().round_trips + b.stats().round_trips, kJobs);
}

TEST_F(WorkerTest, InlineHandlersRunOnTheQueueLoopAndMayReportProgress) {
  std::mutex mu;
  std::set<std::thread::id> threads;
  Worker worker(Options("q=4"));
  worker.Register(
      "t",
      [&](JobContext& job) {
        job.SetProgress("100");  // takes the processor's lock: must not deadlock inline
        std::lock_guard lock(mu);
        threads.insert(std::this_thread::get_id());
        return HandlerResult::Success();
      },
      HandlerOptions{.run_inline = true});
  ASSERT_TRUE(worker.Start().ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(Enqueue());
  for (const std::string& id : ids) ASSERT_TRUE(WaitForState(id, JobState::kCompleted)) << id;
  worker.Stop();
  EXPECT_EQ(threads.size(), 1u);  // all on the one loop thread of queue q
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(GetJob(ids.back()).progress_json, "100");  // sent before the completion
}

TEST_F(WorkerTest, RefusesBadOptionsAndASecondStart) {
  WorkerOptions bad = Options();
  bad.max_errors_kept = 0;
  EXPECT_EQ(Worker(bad).Start().field(), "max_errors_kept");
  Worker worker(Options());
  ASSERT_TRUE(worker.Start().ok());
  EXPECT_EQ(worker.Start().code(), StatusCode::kFailedPrecondition);
  worker.Stop();
}

TEST_F(WorkerTest, RefusesRedisThatMayEvictJobs) {
  server_->Run(broker::Command{"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  Worker worker(Options());
  Status s = worker.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("noeviction"), std::string::npos);
}

}  // namespace
}  // namespace taskq::testing
