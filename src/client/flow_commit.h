// A flow request turned into what the broker writes (broker::FlowCommit); flow ids are
// common/flow_ids.h. Pure: no Redis. Private to src/client/ (and its tests).
#pragma once

#include <string>
#include <string_view>

#include "broker/broker.h"
#include "common/flow_ids.h"
#include "common/job_codec.h"
#include "taskq/flow.h"

namespace taskq::client {

using taskq::FlowAddress;
using taskq::FlowIdOf;
using taskq::FlowJobId;
using taskq::ParseFlowId;

// The queue a job of a flow runs in: its queue, else its type.
const std::string& JobQueueOf(const FlowJob& job);

// The flow's queue: its root's (the first job's when it has no root; ValidateFlow refuses that).
// The flow's record lives there, and its jobs of other queues are dispatched from there
// (docs/workflows.md, "Flows across queues"). kInvalidArgument naming "jobs[i].queue" (or
// ".type") when a job's queue is not a valid name.
Result<std::string> FlowQueueOf(const FlowRequest& flow);

// One job of a flow or a batch as Enqueue encodes it, with its id and its place (its body carries
// the place). Errors name "<name>.<field>".
Result<broker::NewJob> EncodePlacedJob(const EnqueueRequest& request, FlowPlace place,
                                       std::string id, const JobLimits& limits,
                                       const std::string& name);

// The commit of a flow that ValidateFlow passed: each job encoded as Enqueue encodes it, with its
// place in the flow (EnqueueOptions::flow). Errors name "jobs[i].<field>".
Result<broker::FlowCommit> BuildFlowCommit(const FlowRequest& flow, const FlowAddress& address,
                                           const JobLimits& limits);

}  // namespace taskq::client
