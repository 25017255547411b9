#include "client/batch_commit.h"

namespace taskq::client {
namespace {

// The members of a creation (addition "") or of an addition: refs "<i>" or "<addition>-<i>",
// the parent every member shares.
Status AddMembers(const std::vector<EnqueueRequest>& jobs, const std::string& addition,
                  const FlowAddress& address, const JobLimits& limits,
                  broker::BatchCommit* commit) {
  const std::string batch_id = FlowIdOf(address);
  commit->members.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const std::string ref = BatchMemberRef(addition, i);
    FlowPlace place{batch_id, ref, std::string(kBatchMemberParent)};
    place.batch = true;
    auto job = EncodePlacedJob(jobs[i], std::move(place), FlowJobId(address.key, ref), limits,
                               "jobs[" + std::to_string(i) + "]");
    if (!job.ok()) return job.status();
    commit->members.push_back(std::move(*job));
  }
  return Status::Ok();
}

// A callback, held until its batch releases it: it reads the batch's counts as its children.
Result<broker::NewJob> EncodeCallback(const EnqueueRequest& request, std::string_view ref,
                                      const FlowAddress& address, const JobLimits& limits) {
  FlowPlace place{FlowIdOf(address), std::string(ref), std::string(kBatchCallbackParent)};
  place.has_children = true;
  place.batch = true;
  return EncodePlacedJob(request, std::move(place), FlowJobId(address.key, ref), limits,
                         std::string(ref));
}

}  // namespace

Result<std::string> BatchQueueOf(const BatchRequest& batch) {
  const EnqueueRequest* first = nullptr;
  std::string field;
  if (!batch.jobs.empty()) {
    first = &batch.jobs.front();
    field = "jobs[0]";
  } else if (batch.on_complete) {
    first = &*batch.on_complete;
    field = "on_complete";
  } else if (batch.on_success) {
    first = &*batch.on_success;
    field = "on_success";
  } else {
    return InvalidArgument("jobs", "a batch needs a job or a callback to name its queue");
  }
  const bool named = !first->options.queue.empty();
  const std::string& queue = named ? first->options.queue : first->type;
  TASKQ_RETURN_IF_ERROR(ValidateName(field + (named ? ".queue" : ".type"), queue));
  return queue;
}

Result<broker::BatchCommit> BuildBatchCommit(const BatchRequest& batch, const FlowAddress& address,
                                             const JobLimits& limits) {
  broker::BatchCommit commit;
  commit.batch_key = address.key;
  commit.retention = batch.retention;
  commit.open = batch.open;
  TASKQ_RETURN_IF_ERROR(AddMembers(batch.jobs, "", address, limits, &commit));
  if (batch.on_complete) {
    auto job = EncodeCallback(*batch.on_complete, kBatchOnComplete, address, limits);
    if (!job.ok()) return job.status();
    commit.on_complete = std::move(*job);
  }
  if (batch.on_success) {
    auto job = EncodeCallback(*batch.on_success, kBatchOnSuccess, address, limits);
    if (!job.ok()) return job.status();
    commit.on_success = std::move(*job);
  }
  return commit;
}

Result<broker::BatchCommit> BuildBatchAddition(const BatchAddition& addition,
                                               const std::string& addition_id,
                                               const FlowAddress& address,
                                               const JobLimits& limits) {
  broker::BatchCommit commit;
  commit.batch_key = address.key;
  commit.addition = addition_id;
  TASKQ_RETURN_IF_ERROR(AddMembers(addition.jobs, addition_id, address, limits, &commit));
  return commit;
}

}  // namespace taskq::client
