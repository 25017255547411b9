#include "api/job_actions.h"

#include "taskq/client.h"
#include "taskq/inspector.h"

namespace taskq::api {
namespace {

Status Refused(const Job& job, std::string_view rule) {
  return Status(StatusCode::kFailedPrecondition,
                std::string("the job is ") + JobStateName(job.state) + "; " + std::string(rule));
}

}  // namespace

std::optional<JobAction> ParseJobAction(std::string_view name) {
  for (JobAction a :
       {JobAction::kRetry, JobAction::kPromote, JobAction::kCancel, JobAction::kRemove}) {
    if (name == JobActionName(a)) return a;
  }
  return std::nullopt;
}

const char* JobActionName(JobAction action) {
  switch (action) {
    case JobAction::kRetry:
      return "retry";
    case JobAction::kPromote:
      return "promote";
    case JobAction::kCancel:
      return "cancel";
    case JobAction::kRemove:
      return "remove";
  }
  return "?";
}

Status JobNotFound(const std::string& id) {
  return Status(StatusCode::kNotFound, "no job with id '" + id + "'", "id");
}

Result<ActionOutcome> ApplyJobAction(Backend& b, JobAction action, const Job& job) {
  switch (action) {
    case JobAction::kRetry: {
      auto moved = b.inspector->Retry(job);
      if (!moved.ok()) return moved.status();
      if (!*moved) return Refused(job, "only dead or retrying jobs can be retried");
      return ActionOutcome::kWaiting;
    }
    case JobAction::kPromote: {
      auto promoted = b.inspector->Promote(job.queue, job.id);
      if (!promoted.ok()) return promoted.status();
      if (!*promoted) return Refused(job, "only delayed or retrying jobs can be promoted");
      return ActionOutcome::kWaiting;
    }
    case JobAction::kCancel:
    case JobAction::kRemove:
      break;
  }
  const bool cancel = action == JobAction::kCancel;
  auto outcome =
      cancel ? b.client->Cancel(job.queue, job.id) : b.inspector->Remove(job.queue, job.id);
  if (!outcome.ok()) return outcome.status();
  switch (*outcome) {
    case RemoveOutcome::kRemoved:
      return ActionOutcome::kRemoved;
    case RemoveOutcome::kStopRequested:
      return ActionOutcome::kStopRequested;
    case RemoveOutcome::kNotFound:
      return JobNotFound(job.id);
    case RemoveOutcome::kRefused:
      break;
  }
  if (cancel) {
    return Refused(job, "only waiting, delayed, retrying, held or active jobs can be cancelled");
  }
  // Remove refuses only a running job (remove.lua), whatever state it was read in.
  return Status(StatusCode::kFailedPrecondition,
                "the job is active; cancel it instead (DELETE /api/jobs/" + job.id + ")");
}

}  // namespace taskq::api
