// Flows: a tree of jobs submitted as one request, each parent running once its children have
// settled. This header holds the request and the rules every request must meet, checked whole
// before anything is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/client.h"
#include "taskq/status.h"

namespace taskq {

inline constexpr size_t kMaxFlowRefBytes = 32;
inline constexpr size_t kMaxFlowIdBytes = 64;
// A ref or a flow id: 1..max_bytes of A-Z, a-z, 0-9, _ and - (no '.', which joins them in the
// ids of a flow's jobs).
bool IsFlowName(std::string_view text, size_t max_bytes);

struct FlowJob {
  std::string ref;     // the job's name within the flow: 1..32 of [A-Za-z0-9_-]
  std::string parent;  // the parent's ref; empty for the root, the one job without a parent
  ChildFailurePolicy on_failure = ChildFailurePolicy::kFail;  // children only
  EnqueueRequest job;  // no job_id and no unique key: a flow names its jobs itself
};

struct FlowRequest {
  std::string flow_id;  // empty: one is generated
  std::vector<FlowJob> jobs;
  // How long the flow's record (its tree, its parents' joins and children's results) outlives
  // its root's finish (each job follows its own retention). At most 10 years.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};

  // A chain: each step runs after the one before completed, with its result, and a step's
  // failure cancels the rest. Refs are "step1", "step2", ...; the last step is the root.
  static FlowRequest Chain(std::vector<EnqueueRequest> steps);
};

// FlowLimits is in taskq/client.h, beside the client's other limits.

// Every rule of the tree and its limits, each broken one named ("jobs[3].parent", "jobs[0].ref",
// "jobs" for the request as a whole): kInvalidArgument carrying every invalid field. Job i is
// named "<list_name>[i]" ("chain[i]" for a chain).
Status ValidateFlow(const FlowRequest& flow, const FlowLimits& limits,
                    std::string_view list_name = "jobs");

}  // namespace taskq
