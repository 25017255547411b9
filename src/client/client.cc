#include "taskq/client.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "broker/broker.h"
#include "client/batch_commit.h"
#include "client/flow_commit.h"
#include "common/ids.h"
#include "common/job_codec.h"
#include "common/shard_placement.h"
#include "common/unique_key.h"

namespace taskq {

class Client::Impl {
 public:
  Impl(ClientOptions options, std::unique_ptr<broker::Broker> broker)
      : options_(std::move(options)), broker_(std::move(broker)) {}

  Result<std::vector<EnqueueResult>> EnqueueBulk(std::span<const EnqueueRequest> requests) {
    if (requests.empty()) return std::vector<EnqueueResult>();
    TASKQ_RETURN_IF_ERROR(CheckBulkSize(requests, 0));
    auto encoded = Encode(requests, 0, /*name_by_index=*/requests.size() > 1);
    if (!encoded.ok()) return encoded.status();
    std::vector<EnqueueResult> results(requests.size());
    std::lock_guard lock(mu_);
    for (auto& [queue, indexes] : ByQueue(requests)) {
      TASKQ_RETURN_IF_ERROR(Register(queue));
      std::vector<broker::NewJob> batch = TakeJobs(*encoded, indexes);
      PlaceGeneratedIds(queue, requests, indexes, batch);
      auto outcomes = broker_->Enqueue(queue, batch);
      if (!outcomes.ok()) return outcomes.status();
      FillResults(queue, indexes, batch, *outcomes, results);
    }
    return results;
  }

  Result<std::vector<Result<EnqueueResult>>> EnqueueEach(std::span<const EnqueueRequest> requests) {
    std::vector<Result<EnqueueResult>> results;
    if (requests.empty()) return results;
    TASKQ_RETURN_IF_ERROR(CheckBulkSize(requests, 0));
    auto encoded = Encode(requests, 0, /*name_by_index=*/requests.size() > 1);
    if (!encoded.ok()) return encoded.status();
    results.assign(requests.size(), Result<EnqueueResult>(EnqueueResult{}));
    std::lock_guard lock(mu_);
    for (auto& [queue, indexes] : ByQueue(requests)) {
      std::vector<broker::NewJob> batch = TakeJobs(*encoded, indexes);
      const Status registered = Register(queue);
      std::vector<Result<broker::EnqueueReply>> outcomes;
      if (registered.ok()) {
        PlaceGeneratedIds(queue, requests, indexes, batch);
        outcomes = broker_->EnqueueEach(queue, batch);
      }
      for (size_t k = 0; k < indexes.size(); ++k) {
        if (!registered.ok()) {
          results[indexes[k]] = registered;
        } else if (!outcomes[k].ok()) {
          results[indexes[k]] = outcomes[k].status();
        } else {
          results[indexes[k]] = ResultOf(queue, *outcomes[k], batch[k].id);
        }
      }
    }
    return results;
  }

  Result<std::vector<EnqueueResult>> EnqueueBatches(std::span<const EnqueueRequest> requests,
                                                    size_t batch_size) {
    if (batch_size < 1 || batch_size > options_.max_bulk) {
      return InvalidArgument("batch_size", "must be in 1.." + std::to_string(options_.max_bulk) +
                                               " (ClientOptions::max_bulk)");
    }
    // Each batch of requests is checked and encoded while Redis runs the one before, then goes as
    // one broker batch (a part) per queue in it.
    struct Part {
      std::string queue;
      std::vector<size_t> indexes;
      std::vector<broker::NewJob> jobs;
    };
    std::deque<Part> parts;  // deque: a part's jobs stay in place while the broker holds them
    size_t next_part = 0;    // the next part to hand to the broker
    size_t finished = 0;     // parts whose replies are in
    size_t encoded_to = 0;   // requests [0, encoded_to) are in parts
    std::vector<EnqueueResult> results(requests.size());
    std::lock_guard lock(mu_);
    // Every queue goes into the registry before the first batch: registering one while a batch is
    // in flight would read that batch's reply. (A bad name fails in its batch's Encode.)
    std::set<std::string> queues;
    for (const EnqueueRequest& r : requests) queues.insert(QueueOf(r));
    for (const std::string& queue : queues) {
      if (ValidateName("queue", queue).ok()) TASKQ_RETURN_IF_ERROR(Register(queue));
    }
    auto next = [&]() -> Result<std::optional<broker::QueueBatch>> {
      if (next_part == parts.size() && encoded_to < requests.size()) {
        const size_t begin = encoded_to;
        const size_t n = std::min(batch_size, requests.size() - begin);
        auto batch = requests.subspan(begin, n);
        TASKQ_RETURN_IF_ERROR(CheckBulkSize(batch, begin));
        auto encoded = Encode(batch, begin, /*name_by_index=*/true);
        if (!encoded.ok()) return encoded.status();
        for (auto& [queue, indexes] : ByQueue(batch)) {
          std::vector<broker::NewJob> jobs = TakeJobs(*encoded, indexes);
          for (size_t& i : indexes) i += begin;
          PlaceGeneratedIds(queue, requests, indexes, jobs);
          parts.push_back({queue, std::move(indexes), std::move(jobs)});
        }
        encoded_to = begin + n;
      }
      if (next_part == parts.size()) return std::optional<broker::QueueBatch>();
      const Part& part = parts[next_part++];
      return std::optional<broker::QueueBatch>(broker::QueueBatch{part.queue, part.jobs});
    };
    auto done = [&](std::vector<broker::EnqueueReply>& replies) {
      Part& part = parts[finished++];
      FillResults(part.queue, part.indexes, part.jobs, replies, results);
      part.jobs = {};
    };
    Status status = broker_->EnqueueBatches(next, done);
    if (status.ok()) return results;
    if (finished == parts.size() && encoded_to == requests.size()) {
      // Every batch is in; what failed came after (the replicas' WAIT).
      return Status(status.code(),
                    "all " + std::to_string(requests.size()) +
                        " jobs were written on the master, but: " + status.message(),
                    status.field());
    }
    // The jobs of the batch that failed: the first part whose reply is not in.
    const size_t failed = finished < parts.size() ? parts[finished].indexes.front() : encoded_to;
    const size_t begin = failed / batch_size * batch_size;
    const size_t end = std::min(begin + batch_size, requests.size());
    return Status(status.code(),
                  status.message() + " (in jobs " + std::to_string(begin) + ".." +
                      std::to_string(end - 1) + ", batch " +
                      std::to_string(begin / batch_size + 1) + " of " +
                      std::to_string((requests.size() + batch_size - 1) / batch_size) +
                      "; the batches before it were enqueued, the one after it may have been, "
                      "none later was sent: each batch is atomic, the call is not)",
                  status.field().empty() ? "jobs[" + std::to_string(begin) + "]" : status.field());
  }

  Result<std::optional<Job>> Get(const std::string& queue, const std::string& id) {
    TASKQ_RETURN_IF_ERROR(ValidateName("queue", queue));
    TASKQ_RETURN_IF_ERROR(ValidateJobId(id));
    std::lock_guard lock(mu_);
    return broker_->GetJob(queue, id);
  }

  Result<RemoveOutcome> Cancel(const std::string& queue, const std::string& id) {
    TASKQ_RETURN_IF_ERROR(ValidateName("queue", queue));
    TASKQ_RETURN_IF_ERROR(ValidateJobId(id));
    std::lock_guard lock(mu_);
    return broker_->Remove(queue, id, broker::RemoveMode::kCancel);
  }

  Result<FlowSubmitResult> SubmitFlow(const FlowRequest& flow) {
    TASKQ_RETURN_IF_ERROR(ValidateFlow(flow, options_.flow_limits));
    auto queue = client::FlowQueueOf(flow);
    if (!queue.ok()) return queue.status();
    const client::FlowAddress address{*queue, flow.flow_id.empty() ? NewJobId() : flow.flow_id};
    if (!IsFlowName(address.key, kMaxFlowIdBytes)) {
      return InvalidArgument("flow_id", "must be 1 to 64 of A-Z, a-z, 0-9, _ and -");
    }
    auto commit = client::BuildFlowCommit(flow, address, Limits());
    if (!commit.ok()) return commit.status();
    FlowSubmitResult result;
    result.flow_id = client::FlowIdOf(address);
    for (const broker::FlowCommitJob& job : commit->jobs) {
      result.jobs.push_back({job.ref, job.job.id, job.queue.empty() ? address.queue : job.queue});
    }
    std::lock_guard lock(mu_);
    // Every queue of the flow is in the registry before its jobs can be dispatched there, so
    // that workers and the dashboard find them.
    TASKQ_RETURN_IF_ERROR(Register(address.queue));
    for (const broker::FlowCommitJob& job : commit->jobs) {
      if (!job.queue.empty()) TASKQ_RETURN_IF_ERROR(Register(job.queue));
    }
    auto outcome = broker_->CommitFlow(address.queue, *commit);
    if (!outcome.ok()) return outcome.status();
    switch (*outcome) {
      case broker::FlowCommitOutcome::kCreated:
        result.created = true;
        break;
      case broker::FlowCommitOutcome::kExisted:
        break;
      case broker::FlowCommitOutcome::kConflict:
        return Status(StatusCode::kAlreadyExists,
                      "a job that is not part of flow " + result.flow_id +
                          " holds one of its ids (<flow key>.<ref>); nothing was written: "
                          "choose another flow id",
                      "flow_id");
    }
    return result;
  }

  Result<RemoveOutcome> CancelFlow(const std::string& flow_id) {
    auto address = client::ParseFlowId(flow_id);
    if (!address.ok()) return address.status();
    std::lock_guard lock(mu_);
    auto flow = broker_->ReadFlow(address->queue, address->key);
    if (!flow.ok()) return flow.status();
    if (!flow->has_value()) return RemoveOutcome::kNotFound;
    const FlowView& view = **flow;
    if (view.state != "running") return RemoveOutcome::kRefused;
    for (const FlowNode& node : view.nodes) {
      // The root's cancel reaches every unfinished job below it (the broker's cascade).
      if (node.parent.empty()) {
        return broker_->Remove(address->queue, node.id, broker::RemoveMode::kCancel);
      }
    }
    return Internal("flow " + flow_id + " has no root");
  }

  Result<BatchSubmitResult> SubmitBatch(const BatchRequest& batch) {
    TASKQ_RETURN_IF_ERROR(ValidateBatch(batch, options_.batch_limits));
    auto queue = client::BatchQueueOf(batch);
    if (!queue.ok()) return queue.status();
    const client::FlowAddress address{*queue, batch.batch_id.empty() ? NewJobId() : batch.batch_id};
    auto commit = client::BuildBatchCommit(batch, address, Limits());
    if (!commit.ok()) return commit.status();
    BatchSubmitResult result;
    result.batch_id = client::FlowIdOf(address);
    for (const broker::NewJob& job : commit->members) result.job_ids.push_back(job.id);
    if (commit->on_complete) result.on_complete_id = commit->on_complete->id;
    if (commit->on_success) result.on_success_id = commit->on_success->id;
    std::lock_guard lock(mu_);
    TASKQ_RETURN_IF_ERROR(Register(address.queue));
    auto created =
        Committed(broker_->CommitBatch(address.queue, *commit), result.batch_id, "batch_id");
    if (!created.ok()) return created.status();
    result.created = *created;
    return result;
  }

  Result<BatchAddResult> AddToBatch(const std::string& batch_id, const BatchAddition& addition) {
    auto address = client::ParseFlowId(batch_id);
    if (!address.ok()) return address.status();
    TASKQ_RETURN_IF_ERROR(ValidateBatchAddition(addition, address->queue, options_.batch_limits));
    BatchAddResult result;
    result.batch_id = batch_id;
    result.addition_id = addition.addition_id.empty() ? NewJobId() : addition.addition_id;
    auto commit = client::BuildBatchAddition(addition, result.addition_id, *address, Limits());
    if (!commit.ok()) return commit.status();
    for (const broker::NewJob& job : commit->members) result.job_ids.push_back(job.id);
    std::lock_guard lock(mu_);
    // The total is checked here, before the atomic step that writes the addition: another
    // addition may land in between, so the cap holds for one producer and is best-effort for
    // several. (A retry of an addition written already counts as new here.)
    auto batch = broker_->ReadBatch(address->queue, address->key);
    if (!batch.ok()) return batch.status();
    if (!batch->has_value()) return BatchNotFound(batch_id);
    const int64_t total = (*batch)->total + static_cast<int64_t>(addition.jobs.size());
    if (total > static_cast<int64_t>(options_.batch_limits.max_total) &&
        (*batch)->state != BatchState::kFinished) {
      return InvalidArgument("jobs", "would bring batch " + batch_id + " to " +
                                         std::to_string(total) + " jobs; a batch holds at most " +
                                         std::to_string(options_.batch_limits.max_total));
    }
    auto created =
        Committed(broker_->CommitBatch(address->queue, *commit), batch_id, "addition_id");
    if (!created.ok()) return created.status();
    result.created = *created;
    return result;
  }

  Result<bool> CloseBatch(const std::string& batch_id) {
    auto address = client::ParseFlowId(batch_id);
    if (!address.ok()) return address.status();
    std::lock_guard lock(mu_);
    auto outcome = broker_->CloseBatch(address->queue, address->key);
    if (!outcome.ok()) return outcome.status();
    if (*outcome == broker::BatchCloseOutcome::kNotFound) return BatchNotFound(batch_id);
    return *outcome == broker::BatchCloseOutcome::kClosed;
  }

  Result<RemoveOutcome> CancelBatch(const std::string& batch_id) {
    auto address = client::ParseFlowId(batch_id);
    if (!address.ok()) return address.status();
    std::lock_guard lock(mu_);
    auto outcome = broker_->CancelBatch(address->queue, address->key);
    if (!outcome.ok()) return outcome.status();
    switch (*outcome) {
      case broker::BatchCancelOutcome::kCancelled:
        return RemoveOutcome::kRemoved;
      case broker::BatchCancelOutcome::kFinished:
        return RemoveOutcome::kRefused;
      case broker::BatchCancelOutcome::kNotFound:
        break;
    }
    return RemoveOutcome::kNotFound;
  }

 private:
  // Whether a batch or an addition was written (true) or had been before (false), else why it
  // was refused. `chosen` names the id the caller chose: "batch_id" or "addition_id".
  static Result<bool> Committed(const Result<broker::BatchCommitOutcome>& outcome,
                                const std::string& batch_id, const std::string& chosen) {
    if (!outcome.ok()) return outcome.status();
    switch (*outcome) {
      case broker::BatchCommitOutcome::kCreated:
        return true;
      case broker::BatchCommitOutcome::kExisted:
        return false;
      case broker::BatchCommitOutcome::kNotFound:
        return BatchNotFound(batch_id);
      case broker::BatchCommitOutcome::kFinished:
        return Status(StatusCode::kFailedPrecondition,
                      "batch " + batch_id +
                          " has finished or was cancelled: it takes no more jobs; nothing was "
                          "written");
      case broker::BatchCommitOutcome::kConflict:
        break;
    }
    return Status(StatusCode::kAlreadyExists,
                  "the key of batch " + batch_id +
                      " belongs to a flow, or a job that is not part of the batch holds one of "
                      "its ids (<batch key>.<place>); nothing was written: choose another " +
                      chosen.substr(0, chosen.find('_')) + " id",
                  chosen);
  }

  static Status BatchNotFound(const std::string& batch_id) {
    return Status(StatusCode::kNotFound,
                  "no batch with id '" + batch_id + "' (or its record expired)", "id");
  }

  JobLimits Limits() const { return {options_.max_data_bytes, options_.max_json_depth}; }

  // A job goes to the queue it names, else to the queue named after its type.
  static const std::string& QueueOf(const EnqueueRequest& r) {
    return r.options.queue.empty() ? r.type : r.options.queue;
  }

  // What EnqueueBulk and each batch of EnqueueBatches may hold. `offset` names the jobs in the
  // error by their place in the whole call.
  Status CheckBulkSize(std::span<const EnqueueRequest> requests, size_t offset) const {
    const std::string field = offset == 0 ? "jobs" : "jobs[" + std::to_string(offset) + "]";
    if (requests.size() > options_.max_bulk) {
      return Status(StatusCode::kResourceExhausted,
                    "holds " + std::to_string(requests.size()) + " jobs; the limit is " +
                        std::to_string(options_.max_bulk),
                    field);
    }
    size_t total_bytes = 0;
    for (const EnqueueRequest& r : requests) total_bytes += r.data_json.size();
    if (total_bytes > options_.max_bulk_bytes) {
      return Status(StatusCode::kResourceExhausted,
                    "hold " + std::to_string(total_bytes) + " bytes of data; the limit is " +
                        std::to_string(options_.max_bulk_bytes),
                    field);
    }
    return Status::Ok();
  }

  // Validates and encodes every request first (requests[i] becomes the i-th job): a bad job
  // writes nothing at all. An error names the field as is for a lone job, else as
  // "jobs[i].field", i counted from `offset` (the place of requests[0] in the caller's call).
  Result<std::vector<broker::NewJob>> Encode(std::span<const EnqueueRequest> requests,
                                             size_t offset, bool name_by_index) const {
    const JobLimits limits = Limits();
    std::vector<broker::NewJob> out(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      const EnqueueRequest& r = requests[i];
      // A unique job without a key gets one derived from its type and data, stored in its body.
      std::optional<EnqueueOptions> derived;
      if (r.options.unique && r.options.unique->key.empty()) {
        auto key = DeriveUniqueKey(r.type, r.data_json);
        if (!key.ok()) return key.status();
        derived = r.options;
        derived->unique->key = std::move(*key);
      }
      const EnqueueOptions& options = derived ? *derived : r.options;
      // A job that claimed a place in a flow it is not part of would be counted in that flow's
      // joins by the scripts that finish it.
      Result<std::string> body = options.flow
                                     ? Result<std::string>(InvalidArgument(
                                           "flow",
                                           "is set by SubmitFlow for the jobs of a flow; a job "
                                           "enqueued on its own has none"))
                                     : EncodeJobBody(r.type, r.data_json, options, limits);
      if (!body.ok()) {
        if (!name_by_index) return body.status();
        const Status& s = body.status();
        return Status(s.code(), s.message(),
                      "jobs[" + std::to_string(offset + i) + "]." + s.field());
      }
      broker::NewJob& job = out[i];
      job.id = r.options.job_id.empty() ? NewJobId() : r.options.job_id;
      job.body = std::move(*body);
      job.priority = r.options.priority;
      job.delay_ms = r.options.delay.count();
      job.run_at_ms = r.options.run_at_ms.value_or(-1);
      job.group = r.options.group;
      job.unique = options.unique;
      job.hooked = !r.options.callback_url.empty();
      job.lifo = r.options.lifo;
    }
    return out;
  }

  // The indexes of each queue's jobs, in order.
  static std::map<std::string, std::vector<size_t>> ByQueue(
      std::span<const EnqueueRequest> requests) {
    std::map<std::string, std::vector<size_t>> by_queue;
    for (size_t i = 0; i < requests.size(); ++i) by_queue[QueueOf(requests[i])].push_back(i);
    return by_queue;
  }

  static std::vector<broker::NewJob> TakeJobs(std::vector<broker::NewJob>& encoded,
                                              const std::vector<size_t>& indexes) {
    std::vector<broker::NewJob> jobs;
    jobs.reserve(indexes.size());
    for (size_t i : indexes) jobs.push_back(std::move(encoded[i]));
    return jobs;
  }

  // Adds the queue to the registry (the dashboard's list) once per client. Needs mu_.
  Status Register(const std::string& queue) {
    if (registered_.contains(queue)) return Status::Ok();
    TASKQ_RETURN_IF_ERROR(broker_->RegisterQueue(queue));
    registered_.insert(queue);
    return Status::Ok();
  }

  // On a queue the broker knows to be sharded, the ids the client makes up go round robin over
  // the shards (NewJobIdOnShard), one turn per client and queue; a job with an id of its own, a
  // group or a unique key keeps what places it. `indexes` name the jobs' requests. Under mu_.
  void PlaceGeneratedIds(const std::string& queue, std::span<const EnqueueRequest> requests,
                         const std::vector<size_t>& indexes, std::vector<broker::NewJob>& jobs) {
    const int32_t shards = broker_->PlacementShards(queue);
    if (shards <= 1) return;
    // A random first turn: many producers' small bulks do not all start on shard 0.
    auto [it, added] = turns_.try_emplace(queue, 0);
    if (added) it->second = static_cast<int32_t>(PlacementHash(NewJobId()) % kMaxShards);
    int32_t& turn = it->second;
    for (size_t k = 0; k < indexes.size(); ++k) {
      broker::NewJob& job = jobs[k];
      if (!requests[indexes[k]].options.job_id.empty() || !job.group.empty() || job.unique) {
        continue;
      }
      turn %= shards;
      job.id = NewJobIdOnShard(turn, shards);
      ++turn;
    }
  }

  static EnqueueResult ResultOf(const std::string& queue, const broker::EnqueueReply& reply,
                                std::string& id) {
    EnqueueResult out;
    out.unique_hit = reply.outcome == broker::EnqueueOutcome::kUniqueHeld;
    out.id = out.unique_hit ? reply.holder_id : std::move(id);
    out.queue = queue;
    out.created = reply.outcome == broker::EnqueueOutcome::kWaiting ||
                  reply.outcome == broker::EnqueueOutcome::kDelayed;
    if (reply.outcome == broker::EnqueueOutcome::kWaiting) out.state = JobState::kWaiting;
    if (reply.outcome == broker::EnqueueOutcome::kDelayed) out.state = JobState::kDelayed;
    return out;
  }

  static void FillResults(const std::string& queue, const std::vector<size_t>& indexes,
                          std::vector<broker::NewJob>& jobs,
                          const std::vector<broker::EnqueueReply>& replies,
                          std::vector<EnqueueResult>& results) {
    for (size_t k = 0; k < indexes.size(); ++k) {
      results[indexes[k]] = ResultOf(queue, replies[k], jobs[k].id);
    }
  }

  const ClientOptions options_;
  std::mutex mu_;
  std::unique_ptr<broker::Broker> broker_;  // guarded by mu_
  std::set<std::string> registered_;        // guarded by mu_: queues added to the registry
  std::map<std::string, int32_t> turns_;    // guarded by mu_: the next shard, per sharded queue
};

Result<std::unique_ptr<Client>> Client::Open(ClientOptions options) {
  if (options.max_bulk < 1 || options.max_bulk > kMaxBulkJobs) {
    return InvalidArgument("max_bulk", "must be in 1.." + std::to_string(kMaxBulkJobs) +
                                           " (one bulk is one script call: Redis waits for it)");
  }
  if (options.flow_limits.max_jobs < 1 || options.flow_limits.max_jobs > kMaxBulkJobs) {
    return InvalidArgument("flow_limits.max_jobs",
                           "must be in 1.." + std::to_string(kMaxBulkJobs) +
                               " (one flow is one script call: Redis waits for it)");
  }
  if (options.batch_limits.max_jobs < 1 || options.batch_limits.max_jobs > kMaxBatchJobs) {
    return InvalidArgument("batch_limits.max_jobs",
                           "must be in 1.." + std::to_string(kMaxBatchJobs) +
                               " (one batch is one script call: Redis waits for it)");
  }
  auto broker = broker::OpenBroker({options.redis_url, options.key_prefix});
  if (!broker.ok()) return broker.status();
  return std::unique_ptr<Client>(
      new Client(std::make_unique<Impl>(std::move(options), std::move(*broker))));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<EnqueueResult> Client::Enqueue(const EnqueueRequest& request) {
  auto results = impl_->EnqueueBulk(std::span<const EnqueueRequest>(&request, 1));
  if (!results.ok()) return results.status();
  return std::move(results->front());
}

Result<std::vector<EnqueueResult>> Client::EnqueueBulk(std::span<const EnqueueRequest> requests) {
  return impl_->EnqueueBulk(requests);
}

Result<std::vector<Result<EnqueueResult>>> Client::EnqueueEach(
    std::span<const EnqueueRequest> requests) {
  return impl_->EnqueueEach(requests);
}

Result<std::vector<EnqueueResult>> Client::EnqueueBatches(std::span<const EnqueueRequest> requests,
                                                          size_t batch_size) {
  return impl_->EnqueueBatches(requests, batch_size);
}

Result<std::optional<Job>> Client::Get(const std::string& queue, const std::string& id) {
  return impl_->Get(queue, id);
}

Result<RemoveOutcome> Client::Cancel(const std::string& queue, const std::string& id) {
  return impl_->Cancel(queue, id);
}

Result<FlowSubmitResult> Client::SubmitFlow(const FlowRequest& flow) {
  return impl_->SubmitFlow(flow);
}

Result<RemoveOutcome> Client::CancelFlow(const std::string& flow_id) {
  return impl_->CancelFlow(flow_id);
}

Result<BatchSubmitResult> Client::SubmitBatch(const BatchRequest& batch) {
  return impl_->SubmitBatch(batch);
}

Result<BatchAddResult> Client::AddToBatch(const std::string& batch_id,
                                          const BatchAddition& addition) {
  return impl_->AddToBatch(batch_id, addition);
}

Result<bool> Client::CloseBatch(const std::string& batch_id) { return impl_->CloseBatch(batch_id); }

Result<RemoveOutcome> Client::CancelBatch(const std::string& batch_id) {
  return impl_->CancelBatch(batch_id);
}

}  // namespace taskq
