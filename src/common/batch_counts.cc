// JobContext::batch: a batch callback's counts, from the one child its batch's release wrote
// (lua/include/flows.lua, batch_release). Here rather than in the worker so that a handler
// process, which gets the children in its job frame, reads them the same way.
#include <limits>

#include "common/flow_ids.h"
#include "common/json_fields.h"
#include "taskq/handler.h"

namespace taskq {

std::optional<BatchCounts> JobContext::batch() const {
  const std::vector<FlowChild>& read = children();
  // A flow's refs never hold '*': a lone child named so is a batch's counts.
  if (read.size() != 1 || read.front().ref != kBatchMemberParent) return std::nullopt;
  auto counts = ParseJsonObject(read.front().json, "counts");
  if (!counts.ok()) return std::nullopt;
  const boost::json::object& object = counts->get_object();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  auto total = OptionalInteger(object, "total", "total", 0, kMax);
  auto completed = OptionalInteger(object, "completed", "completed", 0, kMax);
  auto dead = OptionalInteger(object, "dead", "dead", 0, kMax);
  if (!total.ok() || !completed.ok() || !dead.ok() || !*total || !*completed || !*dead) {
    return std::nullopt;
  }
  // The job's id is "<batch key>.<ref>", and batch keys hold no '.'.
  const std::string& job_id = id();
  BatchCounts out;
  out.id = FlowIdOf({queue(), job_id.substr(0, job_id.find('.'))});
  out.total = **total;
  out.completed = **completed;
  out.dead = **dead;
  return out;
}

}  // namespace taskq
