// A flow request turned into what the broker writes (broker::FlowCommit), and the parts of a
// flow id. Pure: no Redis. Private to src/client/ (and its tests).
#pragma once

#include <string>
#include <string_view>

#include "broker/broker.h"
#include "common/job_codec.h"
#include "taskq/flow.h"

namespace taskq::client {

struct FlowAddress {
  std::string queue;
  std::string key;  // the flow id without its queue; its jobs' ids are "<key>.<ref>"
};

// "<queue>:<flow key>" into its parts; kInvalidArgument naming "id" when it is not one.
Result<FlowAddress> ParseFlowId(std::string_view flow_id);
std::string FlowIdOf(const FlowAddress& address);
std::string FlowJobId(std::string_view flow_key, std::string_view ref);

// The queue every job of the flow goes to (a job's queue, else its type). A flow lives in one
// queue: kInvalidArgument naming "jobs" when its jobs name more than one.
Result<std::string> FlowQueueOf(const FlowRequest& flow);

// The commit of a flow that ValidateFlow passed: each job encoded as Enqueue encodes it, with its
// place in the flow (EnqueueOptions::flow). Errors name "jobs[i].<field>".
Result<broker::FlowCommit> BuildFlowCommit(const FlowRequest& flow, const FlowAddress& address,
                                           const JobLimits& limits);

}  // namespace taskq::client
