#include "taskq/inspector.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>

#include "broker/broker.h"
#include "client/flow_commit.h"
#include "client/queue_history.h"
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

  Result<int64_t> SetAllPaused(bool paused) {
    std::lock_guard lock(mu_);
    return broker_->SetAllPaused(paused);
  }

  Result<std::vector<std::string>> ClusterMasters() {
    std::lock_guard lock(mu_);
    return broker_->ClusterMasters();
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

  static constexpr std::chrono::milliseconds kMaxEventWait{5000};

  Result<std::vector<JobEvent>> WaitEvents(std::vector<EventCursor>& cursors,
                                           std::chrono::milliseconds timeout, int32_t max_events) {
    for (const EventCursor& c : cursors) TASKQ_RETURN_IF_ERROR(ValidateName("queue", c.queue));
    // The connection's command timeout (10 s) must outlast the blocking read.
    timeout = std::min(timeout, kMaxEventWait);
    std::lock_guard lock(mu_);
    return broker_->ReadEvents(cursors, timeout, max_events);
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

Result<QueueHistory> Inspector::History(const std::string& queue, std::chrono::milliseconds window,
                                        int32_t max_rows) {
  // One sample more than the rows: the first row's counts need the sample before it.
  auto read = impl_->With(queue, [&](broker::Broker& b) {
    return b.ReadHistory(queue, std::clamp(max_rows, 1, 10080) + 1);
  });
  if (!read.ok()) return read.status();
  QueueHistory out;
  out.now_ms = read->now_ms;
  out.rows = client::HistoryRows(read->samples, read->now_ms - window.count());
  return out;
}

Result<QueueTimings> Inspector::Timings(const std::string& queue) {
  auto counters = impl_->With(queue, [&](broker::Broker& b) { return b.ReadMetrics(queue); });
  if (!counters.ok()) return counters.status();
  // Fields "<p|w>:<type>:<bound ms>|+Inf|sum_ms|count" (worker/job_timings.h), and the handler
  // processes' "hp:<count>".
  std::map<std::string, std::map<int64_t, int64_t>> buckets;  // "p:type" -> bound -> count
  QueueTimings out;
  const std::pair<std::string_view, int64_t HandlerProcessCounts::*> process_counts[] = {
      {"hp:started", &HandlerProcessCounts::started},
      {"hp:timed_out", &HandlerProcessCounts::timed_out},
      {"hp:stopped", &HandlerProcessCounts::stopped},
      {"hp:out_of_memory", &HandlerProcessCounts::out_of_memory},
      {"hp:crashed", &HandlerProcessCounts::crashed},
  };
  for (const auto& [field, n] : *counters) {
    if (field.starts_with("hp:")) {  // worker/handler_process_pool.h
      for (const auto& [name, member] : process_counts) {
        if (field == name) out.handler_processes.*member = n;
      }
      continue;
    }
    const size_t first = field.find(':'), last = field.rfind(':');
    if (first == std::string::npos || last == first) continue;
    const std::string kind = field.substr(0, first);
    const std::string type = field.substr(first + 1, last - first - 1);
    const std::string what = field.substr(last + 1);
    if (kind != "p" && kind != "w") continue;
    TimingHistogram& h = (kind == "p" ? out.processing : out.wait)[type];
    if (what == "sum_ms") {
      h.sum_ms = n;
    } else if (what == "count") {
      h.count = n;
    } else if (what == "+Inf") {
      h.overflow = n;
    } else {
      int64_t bound = 0;
      auto [ptr, ec] = std::from_chars(what.data(), what.data() + what.size(), bound);
      if (ec == std::errc() && ptr == what.data() + what.size())
        buckets[kind + ":" + type][bound] = n;
    }
  }
  for (const auto& [type, h] : out.processing) buckets["p:" + type];
  for (const auto& [type, h] : out.wait) buckets["w:" + type];
  for (auto& [key, bounds] : buckets) {
    // Every standard bucket, those no job fell in included (workers write only counts > 0).
    for (const int64_t bound : kTimingBucketsMs) bounds.emplace(bound, 0);
    const std::string type = key.substr(2);
    TimingHistogram& h = (key[0] == 'p' ? out.processing : out.wait)[type];
    for (const auto& [bound, n] : bounds) {
      h.bounds_ms.push_back(bound);
      h.counts.push_back(n);
    }
  }
  return out;
}

Result<std::vector<Job>> Inspector::List(const std::string& queue, JobState state, int64_t offset,
                                         int64_t limit, ListOrder order) {
  auto page = Page(queue, state, JobCursor::AtOffset(offset), limit, order);
  if (!page.ok()) return page.status();
  return std::move(page->jobs);
}

Result<JobPage> Inspector::Page(const std::string& queue, JobState state, const JobCursor& from,
                                int64_t limit, ListOrder order) {
  auto listing = impl_->With(
      queue, [&](broker::Broker& b) { return b.ListJobs(queue, state, from, limit, order); });
  if (!listing.ok()) return listing.status();
  JobPage page;
  page.at_end = static_cast<int64_t>(listing->jobs.size()) < limit;
  page.next = listing->after.empty() ? from : listing->after.back();
  for (std::optional<Job>& job : listing->jobs) {
    if (job) page.jobs.push_back(std::move(*job));  // removed in between: skipped
  }
  return page;
}

Result<JobScan> Inspector::Scan(const std::string& queue, JobState state, const JobFilter& filter,
                                const JobCursor& from, int64_t max_scan, int64_t limit,
                                ListOrder order) {
  TASKQ_RETURN_IF_ERROR(filter.Validate());
  if (from.offset < 0) return InvalidArgument("cursor", "must not be negative");
  if (max_scan < 1 || max_scan > kMaxScan) {
    return InvalidArgument("scan", "must be an integer in [1, 50000]");
  }
  if (limit < 1 || limit > 1000) return InvalidArgument("limit", "must be an integer in [1, 1000]");
  JobScan scan;
  scan.next = from;
  while (scan.scanned < max_scan) {
    const int64_t chunk = std::min(kScanChunk, max_scan - scan.scanned);
    // One chunk per lock: other callers of this Inspector get their turn between chunks.
    auto page = impl_->With(queue, [&](broker::Broker& b) {
      return b.ListJobs(queue, state, scan.next, chunk, order);
    });
    if (!page.ok()) return page.status();
    for (size_t i = 0; i < page->jobs.size(); ++i) {
      ++scan.scanned;
      scan.next = page->after[i];
      std::optional<Job>& job = page->jobs[i];
      if (!job || !filter.Matches(*job)) continue;
      scan.jobs.push_back(std::move(*job));
      if (static_cast<int64_t>(scan.jobs.size()) == limit) {
        // The state ends here when this was its last job.
        scan.at_end = i + 1 == page->jobs.size() && static_cast<int64_t>(page->jobs.size()) < chunk;
        return scan;
      }
    }
    if (static_cast<int64_t>(page->jobs.size()) < chunk) {
      scan.at_end = true;
      break;
    }
  }
  return scan;
}

Result<bool> Inspector::Pause(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.SetPaused(queue, true); });
}

Result<bool> Inspector::Resume(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.SetPaused(queue, false); });
}

Result<int64_t> Inspector::PauseAll() { return impl_->SetAllPaused(true); }
Result<int64_t> Inspector::ResumeAll() { return impl_->SetAllPaused(false); }

namespace {

Status ValidateRate(const RateLimit& rate, const std::string& field) {
  if (rate.max < 0 || rate.max > kMaxRateLimit) {
    return InvalidArgument(field + ".max", "must be between 0 (no limit) and 1000000000");
  }
  if (rate.window < std::chrono::milliseconds(1) || rate.window > kMaxRateWindow) {
    return InvalidArgument(field + ".window_ms", "must be between 1 ms and 24 h");
  }
  return Status::Ok();
}

Status ValidateConcurrency(int32_t n, const std::string& field) {
  if (n < 0 || n > kMaxConcurrencyLimit) {
    return InvalidArgument(field, "must be between 0 (no limit) and 1000000");
  }
  return Status::Ok();
}

Status ValidateLimits(const QueueLimits& limits) {
  TASKQ_RETURN_IF_ERROR(ValidateRate(limits.rate, "rate"));
  TASKQ_RETURN_IF_ERROR(ValidateConcurrency(limits.concurrency, "concurrency"));
  TASKQ_RETURN_IF_ERROR(ValidateRate(limits.group_rate, "group.rate"));
  TASKQ_RETURN_IF_ERROR(ValidateConcurrency(limits.group_concurrency, "group.concurrency"));
  if (limits.priority_aging.count() < 0 || limits.priority_aging > std::chrono::hours(24)) {
    return InvalidArgument("priority_aging_ms", "must be between 0 (off) and 24 h");
  }
  if (limits.max_length < 0 || limits.max_length > kMaxQueueLength) {
    return InvalidArgument("max_length", "must be between 0 (none) and 2^40");
  }
  if (limits.group_field.size() > kMaxGroupFieldBytes) {
    return InvalidArgument("group.field", "must be at most 128 bytes");
  }
  return Status::Ok();
}

}  // namespace

Status Inspector::SetLimits(const std::string& queue, const QueueLimits& limits) {
  TASKQ_RETURN_IF_ERROR(ValidateLimits(limits));
  return impl_->With(queue, [&](broker::Broker& b) { return b.SetLimits(queue, limits); });
}

Result<QueueLimits> Inspector::Limits(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.GetLimits(queue); });
}

Result<int32_t> Inspector::Shards(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) -> Result<int32_t> {
    auto layout = b.Layout(queue);
    if (!layout.ok()) return layout.status();
    return layout->shards();
  });
}

Result<QueueShards> Inspector::ShardBreakdown(const std::string& queue) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.CountsByShard(queue); });
}

Result<std::vector<std::string>> Inspector::ClusterMasters() { return impl_->ClusterMasters(); }

Status Inspector::SetShards(const std::string& queue, int32_t shards) {
  return impl_->With(queue, [&](broker::Broker& b) { return b.SetShards(queue, shards).status(); });
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

Result<std::optional<Job>> Inspector::Find(const std::string& id, const std::string& queue) {
  TASKQ_RETURN_IF_ERROR(ValidateJobId(id));
  if (!queue.empty()) {
    return impl_->With(queue, [&](broker::Broker& b) { return b.GetJob(queue, id); });
  }
  auto queues = Queues();
  if (!queues.ok()) return queues.status();
  for (const std::string& q : *queues) {
    auto job = impl_->With(q, [&](broker::Broker& b) { return b.GetJob(q, id); });
    if (!job.ok() || job->has_value()) return job;
  }
  return std::optional<Job>();
}

Result<bool> Inspector::Retry(const Job& job) {
  if (job.state == JobState::kDead) {
    auto n = RetryDead(job.queue, std::span<const std::string>(&job.id, 1));
    if (!n.ok()) return n.status();
    return *n == 1;
  }
  if (job.state == JobState::kRetrying) return Promote(job.queue, job.id);
  return false;
}

Result<RemoveOutcome> Inspector::Remove(const std::string& queue, const std::string& id) {
  TASKQ_RETURN_IF_ERROR(ValidateJobId(id));
  return impl_->With(
      queue, [&](broker::Broker& b) { return b.Remove(queue, id, broker::RemoveMode::kRemove); });
}

Result<std::optional<FlowView>> Inspector::GetFlow(const std::string& flow_id) {
  auto address = client::ParseFlowId(flow_id);
  if (!address.ok()) return address.status();
  return impl_->With(address->queue,
                     [&](broker::Broker& b) { return b.ReadFlow(address->queue, address->key); });
}

Result<std::optional<BatchView>> Inspector::GetBatch(const std::string& batch_id) {
  auto address = client::ParseFlowId(batch_id);
  if (!address.ok()) return address.status();
  return impl_->With(address->queue,
                     [&](broker::Broker& b) { return b.ReadBatch(address->queue, address->key); });
}

Result<std::vector<JobEvent>> Inspector::WaitEvents(std::vector<EventCursor>& cursors,
                                                    std::chrono::milliseconds timeout,
                                                    int32_t max_events) {
  return impl_->WaitEvents(cursors, timeout, max_events);
}

Result<int64_t> Inspector::Clean(const std::string& queue, JobState state,
                                 std::chrono::milliseconds older_than, int32_t limit) {
  return impl_->With(queue,
                     [&](broker::Broker& b) { return b.Clean(queue, state, older_than, limit); });
}

}  // namespace taskq
