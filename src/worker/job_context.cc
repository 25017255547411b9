// What every JobContext answers the same way, from its virtual members.
#include "taskq/handler.h"

namespace taskq {

std::optional<std::string> JobContext::previous_result() const {
  // A chain step has one child, the step before it. Several children have no "previous" one,
  // and picking one of them would hide the others from a handler that assumed a chain.
  const std::vector<FlowChild>& outcomes = children();
  if (outcomes.size() != 1 || !outcomes.front().completed) return std::nullopt;
  return outcomes.front().json;
}

}  // namespace taskq
