// A batch as read back from Redis: its counts and its callbacks (docs/workflows.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "taskq/job.h"

namespace taskq {

enum class BatchState {
  kOpen,      // more jobs may be added, and the callbacks wait for the batch to be closed
  kRunning,   // closed, with members still to settle
  kFinished,  // every member completed or went dead (or was cancelled)
};
const char* BatchStateName(BatchState state);

// A callback job of a batch.
struct BatchCallback {
  std::string id;  // "<batch key>.on_complete" or "<batch key>.on_success"
  // Absent: the job was removed, or deleted by its retention.
  std::optional<JobState> state;
  bool cancelled = false;  // dead without running: the batch was cancelled, or (on_success) a
                           // member died
};

struct BatchView {
  std::string id;     // "<queue>:<batch key>"
  std::string queue;  // every job of the batch is in this queue
  BatchState state = BatchState::kRunning;
  bool cancelled = false;
  int64_t created_ms = 0;
  int64_t finished_ms = 0;  // 0 until it finished
  int64_t total = 0;        // members, over every addition
  int64_t pending = 0;      // not yet completed or dead
  int64_t completed = 0;
  int64_t dead = 0;
  std::optional<BatchCallback> on_complete;
  std::optional<BatchCallback> on_success;
};

// What a batch's callback reads when it runs (JobContext::batch): the counts when its batch
// released it.
struct BatchCounts {
  std::string id;  // the batch's id
  int64_t total = 0;
  int64_t completed = 0;
  int64_t dead = 0;
};

}  // namespace taskq
