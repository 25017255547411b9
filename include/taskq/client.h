// The producer side: enqueue jobs and look them up. Thread-safe (calls are serialised on one
// Redis connection; open one Client per thread for parallel producers).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "taskq/enqueue_options.h"
#include "taskq/job.h"
#include "taskq/status.h"

namespace taskq {

struct FlowRequest;    // taskq/flow.h
struct BatchRequest;   // taskq/batch.h
struct BatchAddition;  // taskq/batch.h

// The most jobs one EnqueueBulk call may hold. A bulk is one script call, one atomic step, and
// Redis serves nobody else meanwhile: at a few microseconds a job (bench/RESULTS.md), 10,000 jobs
// hold it for tens of milliseconds, no more.
inline constexpr size_t kMaxBulkJobs = 10000;

// What one flow (taskq/flow.h, Client::SubmitFlow) may hold.
struct FlowLimits {
  // A flow is written in one script call, like a bulk: at most kMaxBulkJobs.
  size_t max_jobs = kMaxBulkJobs;
  size_t max_depth = 16;                     // edges from the root to the deepest job
  size_t max_width = 10000;                  // children of one parent
  size_t max_data_bytes = size_t{16} << 20;  // the jobs' data together
};

// The most jobs one batch request or addition may hold (BatchLimits::max_jobs). A batch, like a
// bulk, is one script call, and Redis serves nobody else meanwhile: this is ten times the largest
// bulk, for producers that want one atomic step more than a short one.
inline constexpr size_t kMaxBatchJobs = 100000;

// What a batch (taskq/batch.h, Client::SubmitBatch and AddToBatch) may hold.
struct BatchLimits {
  size_t max_jobs = kMaxBulkJobs;  // per request or addition: 1..kMaxBatchJobs
  // Members over the batch's life, every addition counted. Checked by reading the batch before
  // an addition is written, not inside its atomic step: additions racing each other may pass it
  // together.
  size_t max_total = kMaxBatchJobs;
  size_t max_data_bytes = size_t{64} << 20;  // the jobs' data together, per request or addition
};

struct ClientOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "taskq";
  size_t max_data_bytes = 512 * 1024;  // per job's data
  int max_json_depth = 32;
  size_t max_bulk = kMaxBulkJobs;    // jobs per EnqueueBulk call: 1..kMaxBulkJobs
  size_t max_bulk_bytes = 64 << 20;  // data bytes per EnqueueBulk call
  FlowLimits flow_limits;            // per SubmitFlow call; max_jobs in 1..kMaxBulkJobs
  BatchLimits batch_limits;          // max_jobs in 1..kMaxBatchJobs
};

struct EnqueueRequest {
  std::string type;
  std::string data_json = "{}";  // a JSON object
  EnqueueOptions options;
};

struct EnqueueResult {
  std::string id;
  std::string queue;
  // false: a job with this id existed, or another job holds the unique key (unique_hit); `id` is
  // that job's, which was left as it is.
  bool created = false;
  bool unique_hit = false;
  std::optional<JobState> state;  // kWaiting or kDelayed when created
};

// One job of a submitted flow, in the request's order.
struct FlowJobResult {
  std::string ref;
  std::string id;  // "<flow key>.<ref>"
  std::string queue;
};

struct FlowSubmitResult {
  std::string flow_id;  // "<queue>:<flow key>"
  // false: a flow with this key existed in the queue. Nothing was written; `jobs` name the ids
  // the request would have had (read the flow for what it holds).
  bool created = false;
  std::vector<FlowJobResult> jobs;
};

struct BatchSubmitResult {
  std::string batch_id;  // "<queue>:<batch key>"
  // false: a batch with this key existed in the queue. Nothing was written; the ids are those
  // the request would have had (read the batch for what it holds).
  bool created = false;
  std::vector<std::string> job_ids;  // the members', "<batch key>.<i>", in the request's order
  std::string on_complete_id;        // "<batch key>.on_complete"; empty when none was asked
  std::string on_success_id;         // "<batch key>.on_success"; empty when none was asked
};

struct BatchAddResult {
  std::string batch_id;
  std::string addition_id;  // as given, or the one generated
  bool created = false;     // false: this addition was written before; nothing was written now
  std::vector<std::string> job_ids;  // "<batch key>.<addition id>-<i>", in the request's order
};

class Client {
 public:
  // Does not connect yet: the first call does (and each call after a dropped connection).
  static Result<std::unique_ptr<Client>> Open(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<EnqueueResult> Enqueue(const EnqueueRequest& request);
  // Validates every job before writing any (all or nothing on bad input). One Redis round trip
  // per queue in the batch; each queue's part is atomic (on a sharded queue, each shard's part:
  // docs/architecture.md, "Sharded queues").
  Result<std::vector<EnqueueResult>> EnqueueBulk(std::span<const EnqueueRequest> requests);
  // Separate jobs sent together (the HTTP API's group commit): checked and sent as EnqueueBulk,
  // but each job gets its own answer. A part that fails (a sharded queue's shard whose master
  // cannot be reached or that has no room, a queue that cannot be registered) fails only its
  // jobs; the others are enqueued. Fails as a whole only where EnqueueBulk refuses before
  // writing: bad input, or a bulk over the limits.
  Result<std::vector<Result<EnqueueResult>>> EnqueueEach(std::span<const EnqueueRequest> requests);
  // For more jobs than one bulk holds (an import): consecutive batches of at most batch_size
  // (1..max_bulk) jobs, each one atomic step as EnqueueBulk. Each batch is checked, encoded and
  // sent while Redis runs the one before, so the call runs at Redis' speed rather than at the sum
  // of both sides'. Not atomic as a whole: when a batch fails (bad input in it, or Redis), the
  // error names it; the batches before it were enqueued, the one after it may have been, none
  // later was sent. Give job ids to make a retry of the call idempotent. For all or nothing, use
  // EnqueueBulk. With ?wait_replicas, the replicas' acknowledgement is awaited once, after the
  // last batch. The Client's other calls wait until this one returns.
  Result<std::vector<EnqueueResult>> EnqueueBatches(std::span<const EnqueueRequest> requests,
                                                    size_t batch_size = 1000);
  Result<std::optional<Job>> Get(const std::string& queue, const std::string& id);
  // Waiting/delayed/retrying: removed. Active: its worker is asked to stop it.
  Result<RemoveOutcome> Cancel(const std::string& queue, const std::string& id);

  // Writes a flow (docs/workflows.md) in one atomic step: its leaves waiting or delayed, its
  // parents held. Every job is checked first (ValidateFlow with ClientOptions::flow_limits, and
  // each job as Enqueue checks it); a bad one writes nothing, and errors name "jobs[i].field".
  // kInvalidArgument naming "jobs" when the jobs go to more than one queue (a flow lives in one
  // queue); kAlreadyExists when a job outside the flow holds one of its ids; kQueueFull as
  // Enqueue. The flow key is flow.flow_id, else a generated id.
  Result<FlowSubmitResult> SubmitFlow(const FlowRequest& flow);
  // Cancels the flow's root, and with it every unfinished job of the flow (each goes dead,
  // cancelled; a running one is asked to stop). kNotFound: no such flow; kRefused: its root
  // has finished.
  Result<RemoveOutcome> CancelFlow(const std::string& flow_id);

  // Writes a batch (docs/workflows.md, "Batches") in one atomic step: its members waiting or
  // delayed, its callbacks held. Every job is checked first (ValidateBatch with
  // ClientOptions::batch_limits, and each job as Enqueue checks it); a bad one writes nothing.
  // kAlreadyExists when the key belongs to a flow or a job outside the batch holds one of its
  // ids; kQueueFull as Enqueue. The batch key is batch.batch_id, else a generated id.
  Result<BatchSubmitResult> SubmitBatch(const BatchRequest& batch);
  // Adds members to a batch that has not finished, in one atomic step. kNotFound: no such batch;
  // kFailedPrecondition: it finished or was cancelled; kInvalidArgument naming "jobs" when the
  // batch would pass BatchLimits::max_total (checked before the write, not in its atomic step).
  // The addition id is addition.addition_id, else a generated one.
  Result<BatchAddResult> AddToBatch(const std::string& batch_id, const BatchAddition& addition);
  // Closes an open batch: once every member has settled, its callbacks run. true: closed now;
  // false: it was closed already. kNotFound: no such batch.
  Result<bool> CloseBatch(const std::string& batch_id);
  // Every unfinished member goes dead, cancelled (a running one is asked to stop), and so do
  // the held callbacks. kRemoved: cancelled; kRefused: it had finished or was cancelled;
  // kNotFound: no such batch.
  Result<RemoveOutcome> CancelBatch(const std::string& batch_id);

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace taskq
