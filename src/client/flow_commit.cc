#include "client/flow_commit.h"

#include <unordered_set>

namespace taskq::client {

Result<std::string> FlowQueueOf(const FlowRequest& flow) {
  if (flow.jobs.empty()) return InvalidArgument("jobs", "must hold at least one job");
  auto queue_of = [](const FlowJob& job) -> const std::string& {
    return job.job.options.queue.empty() ? job.job.type : job.job.options.queue;
  };
  const std::string& queue = queue_of(flow.jobs.front());
  for (size_t i = 1; i < flow.jobs.size(); ++i) {
    if (queue_of(flow.jobs[i]) != queue) {
      return InvalidArgument("jobs", "every job of a flow must be in one queue: jobs[0] goes to '" +
                                         queue + "', jobs[" + std::to_string(i) + "] to '" +
                                         queue_of(flow.jobs[i]) + "'");
    }
  }
  TASKQ_RETURN_IF_ERROR(ValidateName(
      flow.jobs.front().job.options.queue.empty() ? "jobs[0].type" : "jobs[0].queue", queue));
  return queue;
}

Result<broker::FlowCommit> BuildFlowCommit(const FlowRequest& flow, const FlowAddress& address,
                                           const JobLimits& limits) {
  broker::FlowCommit commit;
  commit.flow_key = address.key;
  commit.jobs.reserve(flow.jobs.size());
  std::unordered_set<std::string_view> parents;
  for (const FlowJob& job : flow.jobs) {
    if (!job.parent.empty()) parents.insert(job.parent);
  }
  const std::string flow_id = FlowIdOf(address);
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    const FlowJob& job = flow.jobs[i];
    const EnqueueRequest& r = job.job;
    EnqueueOptions options = r.options;
    options.flow =
        FlowPlace{flow_id, job.ref, job.parent, job.on_failure, parents.contains(job.ref)};
    auto body = EncodeJobBody(r.type, r.data_json, options, limits);
    if (!body.ok()) {
      const Status& s = body.status();
      return Status(s.code(), s.message(), "jobs[" + std::to_string(i) + "]." + s.field());
    }
    broker::FlowCommitJob& out = commit.jobs.emplace_back();
    out.ref = job.ref;
    out.parent = job.parent;
    out.on_failure = job.on_failure;
    // The same fields Client::Enqueue sets; a flow's jobs are never unique (ValidateFlow).
    broker::NewJob& new_job = out.job;
    new_job.id = FlowJobId(address.key, job.ref);
    new_job.body = std::move(*body);
    new_job.priority = r.options.priority;
    new_job.delay_ms = r.options.delay.count();
    new_job.run_at_ms = r.options.run_at_ms.value_or(-1);
    new_job.group = r.options.group;
    new_job.hooked = !r.options.callback_url.empty();
    new_job.lifo = r.options.lifo;
  }
  return commit;
}

}  // namespace taskq::client
