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

// The refs of a batch's jobs: the members of its creation are "0", "1", ...; an addition's are
// "<addition id>-0", ...; the callbacks are kBatchOnComplete and kBatchOnSuccess. In the
// scripts, a member's parent ref is "*" and a callback's "^" (lua/include/flows.lua).
inline constexpr std::string_view kBatchOnComplete = "on_complete";
inline constexpr std::string_view kBatchOnSuccess = "on_success";
inline constexpr std::string_view kBatchMemberParent = "*";
inline constexpr std::string_view kBatchCallbackParent = "^";
std::string BatchMemberRef(std::string_view addition, size_t index);
// An addition's id: 1..kMaxBatchAdditionIdBytes of [A-Za-z0-9_-], so that its members' refs
// ("<addition id>-<i>") fit in a ref's 32 bytes.
inline constexpr size_t kMaxBatchAdditionIdBytes = 24;

}  // namespace taskq
