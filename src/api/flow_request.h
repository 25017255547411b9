// Reading the JSON body of POST /api/flows into a flow request (taskq/flow.h). Each job is read
// as a job of POST /api/jobs (the same fields, rules and type checks) plus its place in the tree;
// every invalid field of every job is named at once.
#pragma once

#include <string_view>

#include "api/job_request.h"
#include "taskq/flow.h"

namespace taskq::api {

// {"flow_id"?, "jobs": [{"ref", "parent"?, "on_failure"?, <job fields>}, ...]} or
// {"flow_id"?, "chain": [<job>, ...]}. `idempotency_key` (the header, may be empty) becomes the
// flow id when the body gives none. Errors as ParseBulkRequest's, plus ValidateFlow's.
Result<FlowRequest> ParseFlowRequest(std::string_view body, std::string_view idempotency_key,
                                     const JobRequestLimits& limits, const FlowLimits& flow_limits,
                                     const JobTypeCheck& check_type);

}  // namespace taskq::api
