// Reading the JSON bodies of POST /api/batches and POST /api/batches/{id}/jobs into batch
// requests (taskq/batch.h). Each job is read as a job of POST /api/jobs (the same fields, rules
// and type checks); every invalid field of every job is named at once.
#pragma once

#include <string_view>

#include "api/job_request.h"
#include "taskq/batch.h"

namespace taskq::api {

// {"batch_id"?, "jobs": [job, ...], "on_complete"?: job, "on_success"?: job, "open"?: bool,
// "retention_ms"?}. `idempotency_key` (the header, may be empty) becomes the batch id when the
// body gives none. Errors as ParseBulkRequest's, plus ValidateBatch's; a list over
// batch_limits.max_jobs is refused naming "jobs" before any job is read.
Result<BatchRequest> ParseBatchRequest(std::string_view body, std::string_view idempotency_key,
                                       const JobRequestLimits& limits,
                                       const BatchLimits& batch_limits,
                                       const JobTypeCheck& check_type);

// {"addition_id"?, "jobs": [job, ...]} for a batch in `queue`. `idempotency_key` becomes the
// addition id when the body gives none.
Result<BatchAddition> ParseBatchAddition(std::string_view body, std::string_view idempotency_key,
                                         std::string_view queue, const JobRequestLimits& limits,
                                         const BatchLimits& batch_limits,
                                         const JobTypeCheck& check_type);

}  // namespace taskq::api
