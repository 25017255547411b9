#include "taskq/client.h"

#include <map>
#include <mutex>
#include <set>

#include "broker/broker.h"
#include "common/ids.h"
#include "common/job_codec.h"
#include "common/unique_key.h"

namespace taskq {

class Client::Impl {
 public:
  Impl(ClientOptions options, std::unique_ptr<broker::Broker> broker)
      : options_(std::move(options)), broker_(std::move(broker)) {}

  Result<std::vector<EnqueueResult>> EnqueueBulk(std::span<const EnqueueRequest> requests) {
    if (requests.empty()) return std::vector<EnqueueResult>();
    if (requests.size() > options_.max_bulk) {
      return Status(StatusCode::kResourceExhausted,
                    "holds " + std::to_string(requests.size()) + " jobs; the limit is " +
                        std::to_string(options_.max_bulk),
                    "jobs");
    }
    size_t total_bytes = 0;
    for (const EnqueueRequest& r : requests) total_bytes += r.data_json.size();
    if (total_bytes > options_.max_bulk_bytes) {
      return Status(StatusCode::kResourceExhausted,
                    "hold " + std::to_string(total_bytes) + " bytes of data; the limit is " +
                        std::to_string(options_.max_bulk_bytes),
                    "jobs");
    }
    const JobLimits limits{options_.max_data_bytes, options_.max_json_depth};
    // Validate and encode everything first: a bad job writes nothing at all.
    std::vector<broker::NewJob> encoded(requests.size());
    std::vector<std::string> queues(requests.size());
    std::map<std::string, std::vector<size_t>> by_queue;
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
      auto body = EncodeJobBody(r.type, r.data_json, options, limits);
      if (!body.ok()) {
        if (requests.size() == 1) return body.status();
        const Status& s = body.status();
        return Status(s.code(), s.message(), "jobs[" + std::to_string(i) + "]." + s.field());
      }
      broker::NewJob& job = encoded[i];
      job.id = r.options.job_id.empty() ? NewJobId() : r.options.job_id;
      job.body = std::move(*body);
      job.priority = r.options.priority;
      job.delay_ms = r.options.delay.count();
      job.run_at_ms = r.options.run_at_ms.value_or(-1);
      job.group = r.options.group;
      job.unique = options.unique;
      queues[i] = r.options.queue.empty() ? r.type : r.options.queue;
      by_queue[queues[i]].push_back(i);
    }
    std::vector<EnqueueResult> results(requests.size());
    std::lock_guard lock(mu_);
    for (auto& [queue, indexes] : by_queue) {
      if (!registered_.contains(queue)) {
        TASKQ_RETURN_IF_ERROR(broker_->RegisterQueue(queue));
        registered_.insert(queue);
      }
      std::vector<broker::NewJob> batch;
      batch.reserve(indexes.size());
      for (size_t i : indexes) batch.push_back(std::move(encoded[i]));
      auto outcomes = broker_->Enqueue(queue, batch);
      if (!outcomes.ok()) return outcomes.status();
      for (size_t k = 0; k < indexes.size(); ++k) {
        EnqueueResult& out = results[indexes[k]];
        const broker::EnqueueReply& reply = (*outcomes)[k];
        out.unique_hit = reply.outcome == broker::EnqueueOutcome::kUniqueHeld;
        out.id = out.unique_hit ? reply.holder_id : std::move(batch[k].id);
        out.queue = queue;
        out.created = reply.outcome == broker::EnqueueOutcome::kWaiting ||
                      reply.outcome == broker::EnqueueOutcome::kDelayed;
        if (reply.outcome == broker::EnqueueOutcome::kWaiting) out.state = JobState::kWaiting;
        if (reply.outcome == broker::EnqueueOutcome::kDelayed) out.state = JobState::kDelayed;
      }
    }
    return results;
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

 private:
  const ClientOptions options_;
  std::mutex mu_;
  std::unique_ptr<broker::Broker> broker_;  // guarded by mu_
  std::set<std::string> registered_;        // guarded by mu_: queues added to the registry
};

Result<std::unique_ptr<Client>> Client::Open(ClientOptions options) {
  if (options.max_bulk < 1 || options.max_bulk > kMaxBulkJobs) {
    return InvalidArgument("max_bulk", "must be in 1.." + std::to_string(kMaxBulkJobs) +
                                           " (one bulk is one script call: Redis waits for it)");
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

Result<std::optional<Job>> Client::Get(const std::string& queue, const std::string& id) {
  return impl_->Get(queue, id);
}

Result<RemoveOutcome> Client::Cancel(const std::string& queue, const std::string& id) {
  return impl_->Cancel(queue, id);
}

}  // namespace taskq
