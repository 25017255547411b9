#include "api/flow_json.h"

#include <map>

#include "api/job_json.h"
#include "common/flow_ids.h"
#include "common/json_text.h"

namespace taskq::api {
namespace {

std::string NullOr(const std::string& text) { return text.empty() ? "null" : JsonString(text); }

std::string RenderJoin(const FlowJoin& join) {
  return "{\"state\":" + JsonString(JoinStateName(join.state)) +
         ",\"total\":" + std::to_string(join.children) +
         ",\"pending\":" + std::to_string(join.pending) +
         ",\"completed\":" + std::to_string(join.completed) +
         ",\"dead\":" + std::to_string(join.dead) +
         ",\"overridden\":" + (join.overridden ? "true" : "false") + "}";
}

std::string LinksOf(const std::string& flow_id) {
  return "\"links\":{\"self\":" + JsonString(FlowLink(flow_id)) + "}";
}

}  // namespace

std::string FlowLink(const std::string& flow_id) {
  // Flow ids are a queue name, ':' and a flow key: nothing in them needs escaping in a path.
  return "/api/flows/" + flow_id;
}

std::string RenderSubmittedFlow(const FlowSubmitResult& result,
                                const std::optional<FlowView>& view) {
  std::map<std::string_view, const FlowNode*> by_ref;
  if (view) {
    for (const FlowNode& node : view->nodes) by_ref.emplace(node.ref, &node);
  }
  std::string out = "{\"id\":" + JsonString(result.flow_id);
  auto address = ParseFlowId(result.flow_id);  // the flow's queue: its root's
  out += ",\"queue\":" + (address.ok() ? JsonString(address->queue) : "null");
  out += ",\"state\":" + (view ? JsonString(view->state) : "null");
  out += ",\"created\":";
  out += result.created ? "true" : "false";
  out += ",\"jobs\":[";
  for (const FlowJobResult& job : result.jobs) {
    if (out.back() != '[') out += ',';
    auto node = by_ref.find(job.ref);
    const bool known = node != by_ref.end() && node->second->state;
    out += "{\"ref\":" + JsonString(job.ref) + ",\"id\":" + JsonString(job.id) +
           ",\"queue\":" + JsonString(job.queue) +
           ",\"state\":" + (known ? JsonString(JobStateName(*node->second->state)) : "null") +
           ",\"links\":{\"job\":" + JsonString(JobLink(job.queue, job.id)) + "}}";
  }
  out += "]," + LinksOf(result.flow_id) + "}";
  return out;
}

std::string RenderFlow(const FlowView& flow) {
  std::string out = "{\"id\":" + JsonString(flow.id) + ",\"queue\":" + JsonString(flow.queue) +
                    ",\"state\":" + JsonString(flow.state) +
                    ",\"created_ms\":" + std::to_string(flow.created_ms) + ",\"finished_ms\":" +
                    (flow.finished_ms > 0 ? std::to_string(flow.finished_ms) : "null");
  out += ",\"jobs\":[";
  for (const FlowNode& node : flow.nodes) {
    if (out.back() != '[') out += ',';
    out += "{\"ref\":" + JsonString(node.ref) + ",\"id\":" + JsonString(node.id) +
           ",\"parent\":" + NullOr(node.parent) +
           ",\"on_failure\":" + JsonString(ChildFailurePolicyName(node.on_failure)) +
           // null: removed, or deleted by its retention
           ",\"state\":" + (node.state ? JsonString(JobStateName(*node.state)) : "null") +
           ",\"cancelled\":" + (node.cancelled ? "true" : "false");
    // The queue it runs in, and where it is now: a parked parent is in the flow's queue.
    const std::string& queue = node.queue.empty() ? flow.queue : node.queue;
    out += ",\"queue\":" + JsonString(queue);
    if (node.join) out += ",\"children\":" + RenderJoin(*node.join);
    out += ",\"links\":{\"job\":" + JsonString(JobLink(node.parked ? flow.queue : queue, node.id)) +
           "}}";
  }
  out += "]," + LinksOf(flow.id) + "}";
  return out;
}

std::string RenderFlowCancel(const std::string& flow_id, RemoveOutcome outcome) {
  return "{\"id\":" + JsonString(flow_id) + ",\"outcome\":" +
         (outcome == RemoveOutcome::kStopRequested ? "\"stop_requested\"" : "\"cancelled\"") + "}";
}

}  // namespace taskq::api
