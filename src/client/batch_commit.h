// A batch request, or an addition, turned into what the broker writes (broker::BatchCommit).
// Pure: no Redis. Private to src/client/ (and its tests).
#pragma once

#include <string>

#include "broker/broker.h"
#include "client/flow_commit.h"
#include "taskq/batch.h"

namespace taskq::client {

// The queue every job of a batch that ValidateBatch passed goes to: its first job's (or first
// callback's) queue, else type. kInvalidArgument naming that field when it is not a queue name.
Result<std::string> BatchQueueOf(const BatchRequest& batch);

// The commit of a batch that ValidateBatch passed: each member encoded as Enqueue encodes it,
// with its place (a member of the batch at `address`), and the callbacks. Errors name
// "jobs[i].<field>", "on_complete.<field>" or "on_success.<field>".
Result<broker::BatchCommit> BuildBatchCommit(const BatchRequest& batch, const FlowAddress& address,
                                             const JobLimits& limits);
// The commit of an addition that ValidateBatchAddition passed, its id given (not empty).
Result<broker::BatchCommit> BuildBatchAddition(const BatchAddition& addition,
                                               const std::string& addition_id,
                                               const FlowAddress& address, const JobLimits& limits);

}  // namespace taskq::client
