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
  }
  return "waiting";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState s : {JobState::kWaiting, JobState::kDelayed, JobState::kActive,
                     JobState::kCompleted, JobState::kRetrying, JobState::kDead}) {
    if (name == JobStateName(s)) return s;
  }
  return std::nullopt;
}

}  // namespace taskq
