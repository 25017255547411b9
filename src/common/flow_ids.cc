#include "common/flow_ids.h"

#include "common/job_codec.h"
#include "taskq/flow.h"

namespace taskq {

Result<FlowAddress> ParseFlowId(std::string_view flow_id) {
  // Queue names hold no ':' (ValidateName), so the first one ends the queue.
  const size_t colon = flow_id.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("id", "must be <queue>:<flow key>, as the flow's submission named it");
  }
  FlowAddress address{std::string(flow_id.substr(0, colon)),
                      std::string(flow_id.substr(colon + 1))};
  if (!ValidateName("id", address.queue).ok() || !IsFlowName(address.key, kMaxFlowIdBytes)) {
    return InvalidArgument("id",
                           "must be <queue>:<flow key>: a queue name, then 1 to 64 of A-Z, a-z, "
                           "0-9, _ and -");
  }
  return address;
}

std::string FlowIdOf(const FlowAddress& address) { return address.queue + ":" + address.key; }

std::string FlowJobId(std::string_view flow_key, std::string_view ref) {
  std::string id(flow_key);
  id += '.';
  id += ref;
  return id;
}

std::string BatchMemberRef(std::string_view addition, size_t index) {
  std::string ref(addition);
  if (!ref.empty()) ref += '-';
  ref += std::to_string(index);
  return ref;
}

}  // namespace taskq
