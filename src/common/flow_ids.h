// The names of a flow and of its jobs: a flow id is "<queue>:<flow key>" and a flow job's id is
// "<flow key>.<ref>" (docs/workflows.md). Queue names hold no ':' and flow keys and refs no '.'.
#pragma once

#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq {

struct FlowAddress {
  std::string queue;
  std::string key;  // the flow id without its queue; its jobs' ids are "<key>.<ref>"
};

// "<queue>:<flow key>" into its parts; kInvalidArgument naming "id" when it is not one.
Result<FlowAddress> ParseFlowId(std::string_view flow_id);
std::string FlowIdOf(const FlowAddress& address);
std::string FlowJobId(std::string_view flow_key, std::string_view ref);

}  // namespace taskq
