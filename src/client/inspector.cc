#include "taskq/inspector.h"

#include <algorithm>
#include <mutex>

#include "broker/broker.h"
#include "common/job_codec.h"
#include "common/worker_info_codec.h"

namespace taskq {

class Inspector::Impl {
 public:
  explicit Impl(std::unique_ptr<broker::Broker> broker) : broker_(std::move(broker)) {}

  // Validates the queue name, then runs `call` on the broker under the lock.
  template <typename F>
  auto With(const std::string& queue, F call) -> decltype(call(std::declval<broker::Broker&>())) {
    TASKQ_RETURN_IF_ERROR(ValidateName("queue", queue));
    std::lock_guard lock(mu_);
    return call(*broker_);
  }

  Status CheckServer() {
    std::lock_guard lock(mu_);
    return broker_->CheckServer();
  }

  Result<std::vector<std::string>> Queues() {
    std::lock_guard lock(mu_);
    return broker_->Queues();
  }

  Result<Inspector::WorkerList> Workers(std::chrono::milliseconds max_age) {
    Result<broker::Broker::WorkerList> records = Status(StatusCode::kInternal, "unset");
    {
      std::lock_guard lock(mu_);
      records = broker_->ListWorkers(max_age);
    }
    if (!records.ok()) return records.status();
    Inspector::WorkerList list;
    list.now_ms = records->now_ms;
    for (const auto& record : records->workers) {
      auto info = DecodeWorkerInfo(record.info_json);
      if (!info.ok()) continue;  // not written by a taskq worker: not ours to show
      if (info->id.empty()) info->id = record.id;
      list.workers.push_back(std::move(*info));
    }
    std::sort(list.workers.begin(), list.workers.end(),
              [](const WorkerInfo& a, const WorkerInfo& b) { return a.id < b.id; });
    return list;
  }

 private:
  std::mutex mu_;
  std::unique_ptr<broker::Broker> broker_;  // guarded by mu_
};

Result<std::unique_ptr<Inspector>> Inspector::Open(InspectorOptions options) {
  auto broker = broker::OpenBroker({options.redis_url, options.key_prefix});
  if (!broker.ok()) return broker.status();
  return std::unique_ptr<Inspector>(new Inspector(std::make_unique<Impl>(std::move(*broker))));
}

Inspector::Inspector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Inspector::~Inspector() = default;

Status Inspector::CheckServer() { return impl_->CheckServer(); }
Result<std::vector<std::string>> Inspector::Queues() { return impl_->Queues(); }
Result<Inspector::WorkerList> Inspector::Workers(std::chrono::milliseconds max_age) {
  return impl_->Workers(max_age);
}

Result<QueueCounts> Inspector::Counts(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.Counts(queue); });
}

Result<std::vector<Job>> Inspector::List(const std::string& queue, JobState state, int64_t offset,
                                         int64_t limit) {
  return impl_->With(queue,
                     [&](broker::Broker& b) { return b.ListJobs(queue, state, offset, limit); });
}

Result<bool> Inspector::Pause(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.SetPaused(queue, true); });
}

Result<bool> Inspector::Resume(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.SetPaused(queue, false); });
}

Result<int64_t> Inspector::RetryDead(const std::string& queue, std::span<const std::string> ids,
                                     int32_t limit) {
  for (const std::string& id : ids) TASKQ_RETURN_IF_ERROR(ValidateJobId(id));
  return impl_->With(queue, [&](broker::Broker& b) { return b.RetryDead(queue, ids, limit); });
}

Result<bool> Inspector::Promote(const std::string& queue, const std::string& id) {
  TASKQ_RETURN_IF_ERROR(ValidateJobId(id));
  return impl_->With(queue, [&](broker::Broker& b) { return b.Promote(queue, id); });
}

Result<RemoveOutcome> Inspector::Remove(const std::string& queue, const std::string& id) {
  TASKQ_RETURN_IF_ERROR(ValidateJobId(id));
  return impl_->With(
      queue, [&](broker::Broker& b) { return b.Remove(queue, id, broker::RemoveMode::kRemove); });
}

Result<int64_t> Inspector::Clean(const std::string& queue, JobState state,
                                 std::chrono::milliseconds older_than, int32_t limit) {
  return impl_->With(queue,
                     [&](broker::Broker& b) { return b.Clean(queue, state, older_than, limit); });
}

}  // namespace taskq
