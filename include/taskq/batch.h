// Batches: many independent jobs in one queue submitted as one request, with callbacks that run
// once the batch has settled (docs/workflows.md, "Batches"). This header holds the requests and
// the rules every request must meet, checked whole before anything is written.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/batch_view.h"
#include "taskq/client.h"
#include "taskq/status.h"

namespace taskq {

inline constexpr size_t kMaxBatchIdBytes = 64;        // as a flow key
// An addition's id starts its members' refs ("<addition id>-<i>", at most 32 bytes as a flow's
// refs): 24 bytes leave room for the position.
inline constexpr size_t kMaxBatchAdditionBytes = 24;

struct BatchRequest {
  std::string batch_id;  // the batch key: 1..64 of [A-Za-z0-9_-]; empty: one is generated
  // The members, "<batch key>.0", "<batch key>.1", ... in order. No job_id and no unique key: a
  // batch names its jobs itself. May be empty for an open batch that gets its jobs by additions.
  std::vector<EnqueueRequest> jobs;
  // Released once, when every member completed or died and the batch is closed.
  std::optional<EnqueueRequest> on_complete;
  // Released when every member completed; goes dead, cancelled, at the first death.
  std::optional<EnqueueRequest> on_success;
  // Open: more jobs may be added (Client::AddToBatch), and the callbacks wait for
  // Client::CloseBatch even when every member has settled.
  bool open = false;
  // How long the batch's record outlives its finish (each job follows its own retention).
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
};

struct BatchAddition {
  // 1..32 of [A-Za-z0-9_-]; empty: one is generated. An addition with this id to this batch is
  // written at most once, so a retry with the same id is safe.
  std::string addition_id;
  std::vector<EnqueueRequest> jobs;  // at least one; "<batch key>.<addition id>-<i>"
};

// BatchLimits is in taskq/client.h, beside the client's other limits.

// Every rule of a batch request, each broken one named: every job (the callbacks too) in one
// queue (a job's queue, else its type: "jobs[3].queue" or "on_success.type" names the first job
// that differs), no job_id and no unique key, the limits. Errors name "jobs[i].<field>",
// "on_complete.<field>", "on_success.<field>", "batch_id", and "jobs" for the list as a whole.
Status ValidateBatch(const BatchRequest& batch, const BatchLimits& limits);
// The same for an addition to a batch in `queue`: every job must go to that queue.
Status ValidateBatchAddition(const BatchAddition& addition, std::string_view queue,
                             const BatchLimits& limits);

}  // namespace taskq
