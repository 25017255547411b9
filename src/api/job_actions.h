// The operator's actions on one job. The single-job routes (job_routes.cc) and the batch route
// POST /api/queues/{queue}/jobs/actions (queue_routes.cc) both run them through here, so a job
// gets the same answer either way.
#pragma once

#include <optional>
#include <string_view>

#include "api/backend_pool.h"
#include "taskq/job.h"
#include "taskq/status.h"

namespace taskq::api {

enum class JobAction {
  kRetry,    // POST /api/jobs/{id}/retry: dead back to waiting, or a retrying job's backoff cut
  kPromote,  // POST /api/jobs/{id}/promote: delayed or retrying to waiting now
  kCancel,   // DELETE /api/jobs/{id}: remove it, or ask its worker to stop it when active
  kRemove,   // POST /api/jobs/{id}/remove: remove it with all its keys unless active
};

std::optional<JobAction> ParseJobAction(std::string_view name);
const char* JobActionName(JobAction action);

enum class ActionOutcome { kWaiting, kRemoved, kStopRequested };

// Runs `action` on `job` (as just read). kFailedPrecondition (409) when its state does not allow
// the action, kNotFound (field "id") when it went away meanwhile; the messages are the routes'.
Result<ActionOutcome> ApplyJobAction(Backend& b, JobAction action, const Job& job);

// kNotFound naming "id", as every job route answers for an unknown job.
Status JobNotFound(const std::string& id);

}  // namespace taskq::api
