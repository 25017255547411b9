#include "taskq/batch_view.h"
#include "taskq/flow_view.h"
#include "taskq/job.h"

namespace taskq {

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kWaiting:
      return "waiting";
    case JobState::kDelayed:
      return "delayed";
    case JobState::kActive:
      return "active";
    case JobState::kCompleted:
      return "completed";
    case JobState::kRetrying:
      return "retrying";
    case JobState::kDead:
      return "dead";
    case JobState::kHeld:
      return "held";
  }
  return "waiting";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState s : {JobState::kWaiting, JobState::kDelayed, JobState::kActive,
                     JobState::kCompleted, JobState::kRetrying, JobState::kDead, JobState::kHeld}) {
    if (name == JobStateName(s)) return s;
  }
  return std::nullopt;
}

const char* JoinStateName(JoinState state) {
  switch (state) {
    case JoinState::kReleased:
      return "released";
    case JoinState::kFailed:
      return "failed";
    case JoinState::kCancelled:
      return "cancelled";
    case JoinState::kWaiting:
      break;
  }
  return "waiting";
}

const char* BatchStateName(BatchState state) {
  switch (state) {
    case BatchState::kOpen:
      return "open";
    case BatchState::kFinished:
      return "finished";
    case BatchState::kRunning:
      break;
  }
  return "running";
}

}  // namespace taskq
