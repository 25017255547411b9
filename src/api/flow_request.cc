#include "api/flow_request.h"

#include <boost/json/value.hpp>

#include "common/field_errors.h"
#include "common/json_fields.h"
#include "common/json_span.h"

namespace taskq::api {
namespace {

namespace json = boost::json;

// A flow id: its jobs' ids are "<flow id>.<ref>".
Status CheckFlowId(std::string_view field, std::string_view id) {
  return IsFlowName(id, kMaxFlowIdBytes)
             ? Status::Ok()
             : InvalidArgument(std::string(field), "must be 1 to 64 of A-Z, a-z, 0-9, _ and -");
}

// The tree fields of a flow job; the rest is ReadJob's.
Status ReadPlace(const json::object& job, const std::string& prefix, FlowJob* out) {
  FieldErrors errors;
  if (const json::value* ref = job.if_contains("ref")) {
    errors.Add(ReadString(*ref, prefix + "ref", &out->ref));
  } else {
    errors.Add(InvalidArgument(prefix + "ref", "is required: the job's name within the flow"));
  }
  if (const json::value* parent = job.if_contains("parent"); parent && !parent->is_null()) {
    errors.Add(ReadString(*parent, prefix + "parent", &out->parent));
    if (out->parent.empty()) {
      errors.Add(InvalidArgument(prefix + "parent", "must name a job; leave it out for the root"));
    }
  }
  if (const json::value* policy = job.if_contains("on_failure")) {
    std::string name;
    Status s = ReadString(*policy, prefix + "on_failure", &name);
    auto parsed = ParseChildFailurePolicy(name);
    if (s.ok() && !parsed) {
      s = InvalidArgument(prefix + "on_failure", "must be one of fail, ignore, continue");
    }
    if (s.ok()) out->on_failure = *parsed;
    errors.Add(s);
  }
  return std::move(errors).ToStatus();
}

}  // namespace

Result<FlowRequest> ParseFlowRequest(std::string_view body, std::string_view idempotency_key,
                                     const JobRequestLimits& limits, const FlowLimits& flow_limits,
                                     const JobTypeCheck& check_type) {
  auto root = ParseBody(body, limits);
  if (!root.ok()) return root.status();
  const json::object* object = root->if_object();
  if (!object) return InvalidArgument("(body)", "must be a JSON object");
  FlowRequest flow;
  FieldErrors errors;
  const json::value* list = nullptr;
  std::string list_name = "jobs";
  for (const auto& [key, value] : *object) {
    if (key == "jobs" || key == "chain") {
      if (list) {
        return InvalidArgument(std::string(key), "goes without jobs: give either jobs or chain");
      }
      list = &value;
      list_name = std::string(key);
    } else if (key == "flow_id") {
      Status s = ReadString(value, "flow_id", &flow.flow_id);
      if (s.ok()) s = CheckFlowId("flow_id", flow.flow_id);
      errors.Add(s);
    } else if (key == "retention_ms") {
      int64_t ms = 0;
      Status s = ReadInteger(value, "retention_ms", 0, kMaxFieldMs, &ms);
      if (s.ok()) flow.retention = std::chrono::milliseconds(ms);
      errors.Add(s);
    } else {
      errors.Add(InvalidArgument(FieldNameOf(key), "unknown field"));
    }
  }
  if (!list || !list->is_array()) {
    errors.Add(InvalidArgument(list ? list_name : "jobs",
                               "is required: an array of job objects (or chain: an array of "
                               "jobs that run one after the other)"));
    return std::move(errors).ToStatus();
  }
  if (!idempotency_key.empty()) {
    if (Status s = CheckFlowId("Idempotency-Key", idempotency_key); !s.ok()) {
      errors.Add(s);
    } else if (flow.flow_id.empty()) {
      flow.flow_id = std::string(idempotency_key);
    } else if (flow.flow_id != idempotency_key) {
      errors.Add(InvalidArgument("flow_id", "differs from the Idempotency-Key header"));
    }
  }
  const json::array& array = list->get_array();
  // Counted before any job is read: a request far over the limit costs no more than its parse.
  if (array.size() > flow_limits.max_jobs) {
    return InvalidArgument(list_name, "holds " + std::to_string(array.size()) +
                                          " jobs; a flow holds at most " +
                                          std::to_string(flow_limits.max_jobs));
  }
  const bool chain = list_name == "chain";
  const std::optional<std::string_view> list_text = JsonMemberText(body, list_name);
  const std::vector<std::string_view> texts =
      list_text ? JsonElementTexts(*list_text) : std::vector<std::string_view>();
  static constexpr std::string_view kPlaceKeys[] = {"ref", "parent", "on_failure"};
  std::vector<EnqueueRequest> steps;
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string prefix = list_name + "[" + std::to_string(i) + "].";
    const std::string_view text = i < texts.size() ? texts[i] : std::string_view();
    FlowJob place;
    if (!chain && array[i].is_object())
      errors.Add(ReadPlace(array[i].get_object(), prefix, &place));
    auto job = ReadJob(array[i], text, prefix, {}, check_type,
                       chain ? std::span<const std::string_view>() : kPlaceKeys);
    if (!job.ok()) {
      if (!errors.Add(job.status())) return job.status();
      continue;
    }
    if (chain) {
      steps.push_back(std::move(*job));
    } else {
      place.job = std::move(*job);
      flow.jobs.push_back(std::move(place));
    }
  }
  if (!errors.empty()) return std::move(errors).ToStatus();
  if (chain && steps.size() > flow_limits.max_depth + 1) {
    return InvalidArgument("chain", "holds " + std::to_string(steps.size()) +
                                        " steps; a chain holds at most " +
                                        std::to_string(flow_limits.max_depth + 1));
  }
  if (chain) flow.jobs = FlowRequest::Chain(std::move(steps)).jobs;
  TASKQ_RETURN_IF_ERROR(ValidateFlow(flow, flow_limits, list_name));
  return flow;
}

}  // namespace taskq::api
