// Batches end to end through the client and a worker (docs/workflows.md, "Batches"): the
// callbacks run once their batch settled, and read its counts (JobContext::batch).
#include <map>
#include <mutex>
#include <vector>

#include "taskq/batch.h"
#include "worker_fixture.h"

namespace taskq::testing {
namespace {

class WorkerBatchTest : public WorkerTest {
 protected:
  // Members of type "t" (completes) or "boom" (fails for good) in queue q; callbacks "cb".
  static EnqueueRequest Member(const std::string& type = "t") {
    EnqueueRequest job{type, "{}", {}};
    job.options.queue = "q";
    job.options.max_attempts = 1;
    return job;
  }
  static EnqueueRequest Callback() { return Member("cb"); }

  // A worker on q whose "cb" handler records what job.batch() gave, by job id.
  std::unique_ptr<Worker> StartWorker() {
    auto worker = std::make_unique<Worker>(Options("q=4"));
    worker->Register("t", [](JobContext&) { return HandlerResult::Success(); });
    worker->Register("boom", [](JobContext&) { return HandlerResult::Fail("boom"); });
    worker->Register("cb", [this](JobContext& job) {
      std::lock_guard lock(mu_);
      seen_[job.id()].push_back(job.batch());
      return HandlerResult::Success();
    });
    EXPECT_TRUE(worker->Start().ok());
    return worker;
  }

  std::vector<std::optional<BatchCounts>> Seen(const std::string& id) {
    std::lock_guard lock(mu_);
    return seen_[id];
  }

  BatchView Batch(const std::string& id) {
    auto batch = inspector_->GetBatch(id);
    EXPECT_TRUE(batch.ok() && batch->has_value()) << id;
    return batch.ok() && batch->has_value() ? **batch : BatchView{};
  }

  bool WaitFinished(const std::string& id) {
    return WaitUntil([&] {
      auto batch = inspector_->GetBatch(id);
      return batch.ok() && batch->has_value() && (*batch)->state == BatchState::kFinished;
    });
  }

  std::mutex mu_;
  std::map<std::string, std::vector<std::optional<BatchCounts>>> seen_;
};

TEST_F(WorkerBatchTest, BothCallbacksRunOnceAfterEveryMemberWithTheCounts) {
  BatchRequest request;
  request.batch_id = "b1";
  request.jobs.assign(5, Member());
  request.on_complete = Callback();
  request.on_success = Callback();
  auto submitted = client_->SubmitBatch(request);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_TRUE(submitted->created);
  EXPECT_EQ(submitted->batch_id, "q:b1");
  EXPECT_EQ(submitted->job_ids, (std::vector<std::string>{"b1.0", "b1.1", "b1.2", "b1.3", "b1.4"}));
  EXPECT_EQ(submitted->on_complete_id, "b1.on_complete");
  EXPECT_EQ(submitted->on_success_id, "b1.on_success");
  EXPECT_EQ(GetJob("b1.on_complete").state, JobState::kHeld);

  auto worker = StartWorker();
  ASSERT_TRUE(WaitFinished("q:b1"));
  ASSERT_TRUE(WaitForState("b1.on_complete", JobState::kCompleted));
  ASSERT_TRUE(WaitForState("b1.on_success", JobState::kCompleted));
  worker->Stop();

  for (const char* callback : {"b1.on_complete", "b1.on_success"}) {
    const auto seen = Seen(callback);
    ASSERT_EQ(seen.size(), 1u) << callback;
    ASSERT_TRUE(seen[0]) << callback;
    EXPECT_EQ(seen[0]->id, "q:b1");
    EXPECT_EQ((std::vector<int64_t>{seen[0]->total, seen[0]->completed, seen[0]->dead}),
              (std::vector<int64_t>{5, 5, 0}));
  }
  const BatchView batch = Batch("q:b1");
  EXPECT_EQ(batch.total, 5);
  EXPECT_EQ(batch.completed, 5);
  EXPECT_EQ(batch.pending, 0);
  EXPECT_FALSE(batch.cancelled);
  ASSERT_TRUE(batch.on_complete);
  EXPECT_EQ(batch.on_complete->state, JobState::kCompleted);

  // The same request again writes nothing; a finished batch takes no addition.
  auto again = client_->SubmitBatch(request);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  auto added = client_->AddToBatch("q:b1", {"", {Member()}});
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().code(), StatusCode::kFailedPrecondition);
  auto cancelled = client_->CancelBatch("q:b1");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(*cancelled, RemoveOutcome::kRefused);
}

TEST_F(WorkerBatchTest, ADeathCancelsOnSuccessAndOnCompleteCountsIt) {
  BatchRequest request;
  request.batch_id = "b2";
  request.jobs = {Member(), Member("boom"), Member()};
  request.on_complete = Callback();
  request.on_success = Callback();
  ASSERT_TRUE(client_->SubmitBatch(request).ok());
  auto worker = StartWorker();
  ASSERT_TRUE(WaitFinished("q:b2"));
  ASSERT_TRUE(WaitForState("b2.on_complete", JobState::kCompleted));
  worker->Stop();

  const auto seen = Seen("b2.on_complete");
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(seen[0]);
  EXPECT_EQ((std::vector<int64_t>{seen[0]->total, seen[0]->completed, seen[0]->dead}),
            (std::vector<int64_t>{3, 2, 1}));
  EXPECT_TRUE(Seen("b2.on_success").empty());
  const Job on_success = GetJob("b2.on_success");
  EXPECT_EQ(on_success.state, JobState::kDead);
  ASSERT_FALSE(on_success.errors.empty());
  EXPECT_EQ(on_success.errors.front().message, "cancelled: batch job b2.1 died");
  const BatchView batch = Batch("q:b2");
  EXPECT_EQ(batch.dead, 1);
  ASSERT_TRUE(batch.on_success);
  EXPECT_TRUE(batch.on_success->cancelled);
}

TEST_F(WorkerBatchTest, AnOpenBatchTakesAdditionsAndRunsItsCallbacksOnceClosed) {
  BatchRequest request;
  request.batch_id = "b3";
  request.open = true;
  request.jobs = {Member()};
  request.on_complete = Callback();
  ASSERT_TRUE(client_->SubmitBatch(request).ok());
  auto worker = StartWorker();
  ASSERT_TRUE(WaitForState("b3.0", JobState::kCompleted));
  EXPECT_EQ(Batch("q:b3").state, BatchState::kOpen);

  auto added = client_->AddToBatch("q:b3", {"", {Member(), Member()}});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_TRUE(added->created);
  EXPECT_EQ(added->addition_id.size(), 20u);  // generated as job ids are
  EXPECT_EQ(added->job_ids, (std::vector<std::string>{"b3." + added->addition_id + "-0",
                                                      "b3." + added->addition_id + "-1"}));
  auto retried = client_->AddToBatch("q:b3", {added->addition_id, {Member(), Member()}});
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_FALSE(retried->created);
  ASSERT_TRUE(WaitForState(added->job_ids[1], JobState::kCompleted));
  EXPECT_EQ(GetJob("b3.on_complete").state, JobState::kHeld);  // open: waits for the close

  auto closed = client_->CloseBatch("q:b3");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_TRUE(*closed);
  ASSERT_TRUE(WaitForState("b3.on_complete", JobState::kCompleted));
  worker->Stop();
  closed = client_->CloseBatch("q:b3");
  ASSERT_TRUE(closed.ok());
  EXPECT_FALSE(*closed);
  const auto seen = Seen("b3.on_complete");
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_TRUE(seen[0]);
  EXPECT_EQ(seen[0]->total, 3);
}

TEST_F(WorkerBatchTest, TheTotalCapIsCheckedBeforeAnAddition) {
  ClientOptions options{server_->url()};
  options.batch_limits.max_total = 3;
  auto client = std::move(*Client::Open(options));
  BatchRequest request;
  request.batch_id = "b4";
  request.open = true;
  request.jobs = {Member(), Member()};
  ASSERT_TRUE(client->SubmitBatch(request).ok());
  auto added = client->AddToBatch("q:b4", {"a1", {Member(), Member()}});
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(added.status().field(), "jobs");
  EXPECT_EQ(Batch("q:b4").total, 2);
  ASSERT_TRUE(client->AddToBatch("q:b4", {"a2", {Member()}}).ok());
  EXPECT_EQ(Batch("q:b4").total, 3);
}

TEST_F(WorkerBatchTest, CancelStopsTheBatchAndUnknownBatchesAreNotFound) {
  BatchRequest request;
  request.batch_id = "b5";
  request.jobs = {Member(), Member()};
  request.on_complete = Callback();
  ASSERT_TRUE(client_->SubmitBatch(request).ok());  // no worker: the members stay waiting
  auto cancelled = client_->CancelBatch("q:b5");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(*cancelled, RemoveOutcome::kRemoved);
  const BatchView batch = Batch("q:b5");
  EXPECT_TRUE(batch.cancelled);
  EXPECT_EQ(batch.state, BatchState::kFinished);
  EXPECT_EQ(batch.dead, 2);
  EXPECT_EQ(GetJob("b5.on_complete").state, JobState::kDead);
  cancelled = client_->CancelBatch("q:b5");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(*cancelled, RemoveOutcome::kRefused);

  auto view = inspector_->GetBatch("q:none");
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->has_value());
  EXPECT_EQ(client_->CloseBatch("q:none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->AddToBatch("q:none", {"", {Member()}}).status().code(), StatusCode::kNotFound);
  cancelled = client_->CancelBatch("q:none");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(*cancelled, RemoveOutcome::kNotFound);
}

}  // namespace
}  // namespace taskq::testing
