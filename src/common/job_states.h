// Every job state, in the order listings and counts show them, and the text that names them as
// the choices of a state parameter (so every such message lists the same states).
#pragma once

#include <string>

#include "taskq/job.h"

namespace taskq {

inline constexpr JobState kJobStates[] = {
    JobState::kWaiting,  JobState::kDelayed, JobState::kActive, JobState::kCompleted,
    JobState::kRetrying, JobState::kDead,    JobState::kHeld};

// "waiting, delayed, active, completed, retrying, dead, held"
inline std::string JobStateChoices() {
  std::string out;
  for (JobState state : kJobStates) {
    if (!out.empty()) out += ", ";
    out += JobStateName(state);
  }
  return out;
}

}  // namespace taskq
