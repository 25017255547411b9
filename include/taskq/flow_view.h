// A flow as read back from Redis: its jobs with their states, and what each parent's children
// have done so far (docs/workflows.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "taskq/enqueue_options.h"
#include "taskq/job.h"

namespace taskq {

// What a parent's children decided for it so far.
enum class JoinState {
  kWaiting,    // children still running; the parent is held
  kReleased,   // every child settled: the parent was released to run (once)
  kFailed,     // a child whose policy is "fail" died: the parent went dead, cancelled
  kCancelled,  // the parent was cancelled or removed, and its unfinished children cancelled
};
const char* JoinStateName(JoinState state);

struct FlowJoin {
  JoinState state = JoinState::kWaiting;
  int64_t children = 0;
  int64_t pending = 0;  // not yet completed or dead
  int64_t completed = 0;
  int64_t dead = 0;  // of every policy
  // The parent was retried from dead: the deaths of its children no longer fail it.
  bool overridden = false;
};

struct FlowNode {
  std::string ref;
  std::string parent;  // empty for the root
  std::string id;      // "<flow key>.<ref>"
  ChildFailurePolicy on_failure = ChildFailurePolicy::kFail;
  // Absent: the job was removed, or deleted by its retention.
  std::optional<JobState> state;
  bool cancelled = false;  // dead because a cancel was asked or its flow failed or was cancelled
  std::optional<FlowJoin> join;  // a parent's children
  // The queue the job runs in when it is not the flow's (docs/workflows.md, "Flows across
  // queues"); empty: the flow's queue.
  std::string queue;
  // A parent of another queue, still in the flow's queue: held, or failed or cancelled there
  // before it was released to its own queue.
  bool parked = false;
};

struct FlowView {
  std::string id;     // "<queue>:<flow key>"
  std::string queue;  // the root's queue, which holds the flow's record
  std::string state;  // "running", then "completed" or "dead" with its root
  int64_t created_ms = 0;
  int64_t finished_ms = 0;      // when the root finished; 0 while running
  std::vector<FlowNode> nodes;  // by ref, bytewise
};

// A child's outcome, as its parent's handler reads it (JobContext::children).
struct FlowChild {
  std::string ref;
  std::string id;
  bool completed = false;  // false: dead (a child whose policy is "continue")
  std::string json;        // completed: its result ("null" when none); dead: its last error
};

}  // namespace taskq
