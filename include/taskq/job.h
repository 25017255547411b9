// A job as read back from Redis.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "taskq/enqueue_options.h"

namespace taskq {

enum class JobState {
  kWaiting,    // ready to run, in priority order
  kDelayed,    // enqueued with a delay or run-at time that has not come
  kActive,     // claimed by a worker that holds its lease
  kCompleted,  // the handler succeeded
  kRetrying,   // an attempt failed; waits for its backoff delay, then runs again
  kDead,       // attempts exhausted, or failed without retry: the dead-letter queue
  kHeld,       // a flow's parent waiting for its children to settle (docs/workflows.md)
};

const char* JobStateName(JobState state);

// What cancelling or removing a job did.
enum class RemoveOutcome {
  kNotFound,
  kRemoved,        // it was not running and is gone
  kStopRequested,  // it is running: its worker was asked to stop it (it then goes dead)
  kRefused,        // cancel of a finished job, or remove of a running one
};
std::optional<JobState> ParseJobState(std::string_view name);

// The order of a listing of one state: its own (waiting, delayed, retrying and active in run
// order, completed and dead newest first) or the reverse of it.
enum class ListOrder { kDefault, kReversed };

struct AttemptError {
  int32_t attempt = 0;
  int64_t at_ms = 0;  // Redis time
  std::string message;
};

struct Job {
  std::string id;
  std::string queue;
  std::string type;
  std::string data_json;  // a JSON object
  JobState state = JobState::kWaiting;
  EnqueueOptions options;
  int32_t attempts = 0;  // attempts started so far
  int32_t stalls = 0;    // times a lease expired while the job ran
  int64_t created_ms = 0;
  int64_t started_ms = 0;   // the latest attempt's start; 0 if never started
  int64_t finished_ms = 0;  // completed or dead; 0 otherwise
  int64_t due_ms = 0;       // delayed or retrying: when it becomes waiting
  // Active, and the running attempt passed its timeout while its handler still runs (a handler
  // thread cannot be killed; it was asked to stop): when the timeout passed (Redis ms) and the
  // timeout. The job is not retried before the handler returns. 0 otherwise.
  int64_t overrunning_since_ms = 0;
  int64_t overrun_timeout_ms = 0;
  std::string result_json;  // completed: the handler's result ("null" when none)
  std::string progress_json;
  std::vector<AttemptError> errors;  // newest first, capped
  std::vector<std::string> logs;     // oldest first, capped
};

}  // namespace taskq
