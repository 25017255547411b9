#include "client/flow_commit.h"

#include <algorithm>
#include <unordered_set>

namespace taskq::client {

const std::string& JobQueueOf(const FlowJob& job) {
  return job.job.options.queue.empty() ? job.job.type : job.job.options.queue;
}

Result<std::string> FlowQueueOf(const FlowRequest& flow) {
  if (flow.jobs.empty()) return InvalidArgument("jobs", "must hold at least one job");
  const FlowJob* root = &flow.jobs.front();
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    const FlowJob& job = flow.jobs[i];
    TASKQ_RETURN_IF_ERROR(ValidateName(
        "jobs[" + std::to_string(i) + (job.job.options.queue.empty() ? "].type" : "].queue"),
        JobQueueOf(job)));
    if (job.parent.empty()) root = &job;
  }
  return JobQueueOf(*root);
}

Result<broker::NewJob> EncodePlacedJob(const EnqueueRequest& request, FlowPlace place,
                                       std::string id, const JobLimits& limits,
                                       const std::string& name) {
  EnqueueOptions options = request.options;
  options.flow = std::move(place);
  auto body = EncodeJobBody(request.type, request.data_json, options, limits);
  if (!body.ok()) {
    const Status& s = body.status();
    return Status(s.code(), s.message(), name + "." + s.field());
  }
  // The same fields Client::Enqueue sets; these jobs are never unique (ValidateFlow and
  // ValidateBatch refuse it).
  broker::NewJob job;
  job.id = std::move(id);
  job.body = std::move(*body);
  job.priority = request.options.priority;
  job.delay_ms = request.options.delay.count();
  job.run_at_ms = request.options.run_at_ms.value_or(-1);
  job.group = request.options.group;
  job.hooked = !request.options.callback_url.empty();
  job.lifo = request.options.lifo;
  return job;
}

Result<broker::FlowCommit> BuildFlowCommit(const FlowRequest& flow, const FlowAddress& address,
                                           const JobLimits& limits) {
  broker::FlowCommit commit;
  commit.flow_key = address.key;
  commit.retention = flow.retention;
  commit.jobs.reserve(flow.jobs.size());
  std::unordered_set<std::string_view> parents;
  for (const FlowJob& job : flow.jobs) {
    if (!job.parent.empty()) parents.insert(job.parent);
  }
  const std::string flow_id = FlowIdOf(address);
  // Each job's queue when it is not the flow's ("" when it is).
  std::vector<std::string_view> elsewhere;
  elsewhere.reserve(flow.jobs.size());
  for (const FlowJob& job : flow.jobs) {
    const std::string& queue = JobQueueOf(job);
    elsewhere.push_back(queue == address.queue ? std::string_view() : std::string_view(queue));
  }
  const bool across_queues = std::any_of(elsewhere.begin(), elsewhere.end(),
                                         [](std::string_view q) { return !q.empty(); });
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    const FlowJob& job = flow.jobs[i];
    FlowPlace place{flow_id, job.ref, job.parent, job.on_failure, parents.contains(job.ref)};
    place.across_queues = across_queues;
    auto encoded = EncodePlacedJob(job.job, std::move(place), FlowJobId(address.key, job.ref),
                                   limits, "jobs[" + std::to_string(i) + "]");
    if (!encoded.ok()) return encoded.status();
    broker::FlowCommitJob& out = commit.jobs.emplace_back();
    out.ref = job.ref;
    out.parent = job.parent;
    out.on_failure = job.on_failure;
    out.job = std::move(*encoded);
    out.queue = std::string(elsewhere[i]);
  }
  return commit;
}

}  // namespace taskq::client
