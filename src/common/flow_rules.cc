// The rules of a flow request (taskq/flow.h), checked whole before anything is written.
#include <string>
#include <unordered_map>

#include "common/field_errors.h"
#include "taskq/flow.h"

namespace taskq {
bool IsFlowName(std::string_view text, size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const char* ChildFailurePolicyName(ChildFailurePolicy policy) {
  switch (policy) {
    case ChildFailurePolicy::kIgnore:
      return "ignore";
    case ChildFailurePolicy::kContinue:
      return "continue";
    case ChildFailurePolicy::kFail:
      break;
  }
  return "fail";
}

std::optional<ChildFailurePolicy> ParseChildFailurePolicy(std::string_view name) {
  if (name == "fail") return ChildFailurePolicy::kFail;
  if (name == "ignore") return ChildFailurePolicy::kIgnore;
  if (name == "continue") return ChildFailurePolicy::kContinue;
  return std::nullopt;
}

FlowRequest FlowRequest::Chain(std::vector<EnqueueRequest> steps) {
  FlowRequest flow;
  for (size_t i = 0; i < steps.size(); ++i) {
    FlowJob& job = flow.jobs.emplace_back();
    job.ref = "step" + std::to_string(i + 1);
    // Step i runs first among the rest: it is the child of step i + 1.
    if (i + 1 < steps.size()) job.parent = "step" + std::to_string(i + 2);
    job.job = std::move(steps[i]);
  }
  return flow;
}

Status ValidateFlow(const FlowRequest& flow, const FlowLimits& limits, std::string_view list_name) {
  const std::string list(list_name);
  auto name = [&](size_t i) { return list + "[" + std::to_string(i) + "]"; };
  if (flow.jobs.empty()) return InvalidArgument(list, "must hold at least one job");
  if (flow.jobs.size() > limits.max_jobs) {
    return InvalidArgument(list, "holds " + std::to_string(flow.jobs.size()) +
                                     " jobs; a flow holds at most " +
                                     std::to_string(limits.max_jobs));
  }
  FieldErrors errors;
  std::unordered_map<std::string_view, size_t> by_ref;
  size_t data_bytes = 0;
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    const FlowJob& job = flow.jobs[i];
    data_bytes += job.job.data_json.size();
    if (!IsFlowName(job.ref, kMaxFlowRefBytes)) {
      errors.Add(InvalidArgument(name(i) + ".ref", "must be 1 to 32 of A-Z, a-z, 0-9, _ and -"));
    } else if (auto [at, added] = by_ref.emplace(job.ref, i); !added) {
      errors.Add(InvalidArgument(name(i) + ".ref", "repeats the ref of " + name(at->second)));
    }
    if (!job.job.options.job_id.empty()) {
      errors.Add(InvalidArgument(name(i) + ".job_id",
                                 "is not allowed in a flow: its jobs are named <flow id>.<ref>"));
    }
    if (job.job.options.unique) {
      errors.Add(InvalidArgument(name(i) + ".unique",
                                 "is not allowed in a flow: replacing a job would cut the tree"));
    }
  }
  if (data_bytes > limits.max_data_bytes) {
    errors.Add(InvalidArgument(list, "hold " + std::to_string(data_bytes) +
                                         " bytes of data; a flow holds at most " +
                                         std::to_string(limits.max_data_bytes)));
  }
  // Parents: each names a job of the flow; exactly one job has none.
  std::vector<size_t> parent_of(flow.jobs.size(), SIZE_MAX);
  std::optional<size_t> root;
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    const FlowJob& job = flow.jobs[i];
    if (job.parent.empty()) {
      if (root) {
        errors.Add(InvalidArgument(name(i) + ".parent", "is required: " + name(*root) +
                                                            " is the root already, and a flow "
                                                            "has one"));
      } else {
        root = i;
      }
      if (job.on_failure != ChildFailurePolicy::kFail) {
        errors.Add(
            InvalidArgument(name(i) + ".on_failure", "is for children: the root has no parent"));
      }
      continue;
    }
    auto at = by_ref.find(job.parent);
    if (at == by_ref.end()) {
      errors.Add(InvalidArgument(name(i) + ".parent", "names no job of the flow"));
    } else if (at->second == i) {
      errors.Add(InvalidArgument(name(i) + ".parent", "names the job itself"));
    } else {
      parent_of[i] = at->second;
    }
  }
  if (!root) errors.Add(InvalidArgument(list, "needs a root: one job without a parent"));
  if (!errors.empty()) return std::move(errors).ToStatus();

  // Depth by walking up, with memo: a walk longer than the flow is a cycle.
  std::vector<size_t> depth(flow.jobs.size(), SIZE_MAX);
  depth[*root] = 0;
  std::vector<size_t> children(flow.jobs.size(), 0);
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    if (parent_of[i] != SIZE_MAX) ++children[parent_of[i]];
  }
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    std::vector<size_t> path;
    size_t at = i;
    while (depth[at] == SIZE_MAX && path.size() <= flow.jobs.size()) {
      path.push_back(at);
      at = parent_of[at];
    }
    if (depth[at] == SIZE_MAX) {  // never reached the root: a cycle
      errors.Add(InvalidArgument(name(i) + ".parent",
                                 "leads to a cycle of parents: the root is never reached"));
      for (size_t p : path) depth[p] = SIZE_MAX - 1;  // reported once
      continue;
    }
    if (depth[at] == SIZE_MAX - 1) continue;  // leads into a cycle already reported
    for (size_t k = path.size(); k-- > 0;) depth[path[k]] = depth[parent_of[path[k]]] + 1;
    if (depth[i] == limits.max_depth + 1) {  // the first level too deep, not every one below
      errors.Add(
          InvalidArgument(name(i) + ".parent", "puts the job at depth " + std::to_string(depth[i]) +
                                                   "; a flow is at most " +
                                                   std::to_string(limits.max_depth) + " deep"));
    }
  }
  for (size_t i = 0; i < flow.jobs.size(); ++i) {
    if (children[i] > limits.max_width) {
      errors.Add(InvalidArgument(name(i), "has " + std::to_string(children[i]) +
                                              " children; a parent has at most " +
                                              std::to_string(limits.max_width)));
    }
  }
  return std::move(errors).ToStatus();
}

}  // namespace taskq
