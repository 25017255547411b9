// /api/flows: submit a flow (a tree of jobs in one queue), read it, cancel it
// (docs/workflows.md).
#include <set>
#include <string>
#include <utility>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/flow_json.h"
#include "api/flow_request.h"
#include "common/trace_parent.h"
#include "taskq/flow.h"

namespace taskq::api {
namespace {

Status FlowNotFound(const std::string& id) {
  return Status(StatusCode::kNotFound, "no flow with id '" + id + "' (or its record expired)",
                "id");
}

// A retry of a submission must ask for the same tree: the existing flow's refs and parents.
bool SameTree(const FlowRequest& request, const FlowView& existing) {
  std::set<std::pair<std::string_view, std::string_view>> asked, held;
  for (const FlowJob& job : request.jobs) asked.emplace(job.ref, job.parent);
  for (const FlowNode& node : existing.nodes) held.emplace(node.ref, node.parent);
  return asked == held;
}

void SubmitFlow(ApiContext& ctx, HttpRequest&& request, const RouteParams&, Respond respond) {
  const std::string_view idempotency_key = request.Header("idempotency-key");
  auto parsed = ParseFlowRequest(request.body, idempotency_key, ctx.options.request_limits,
                                 ctx.options.client.flow_limits, ctx.check_type);
  if (!parsed.ok()) return respond(BodyErrorResponse(parsed.status()));
  for (size_t i = 0; i < parsed->jobs.size(); ++i) {  // all or nothing, as a bulk
    const std::string field = "jobs[" + std::to_string(i) + "].type";
    if (auto refused = TypeRefusal(ctx, request, parsed->jobs[i].job.type, field)) {
      return respond(std::move(*refused));
    }
  }
  if (const std::string_view trace = request.Header("traceparent"); !trace.empty()) {
    if (Status s = CheckTraceParent(trace); !s.ok()) return respond(StatusResponse(s));
    for (FlowJob& job : parsed->jobs) job.job.options.trace_parent = std::string(trace);
  }
  const std::string key_field = idempotency_key.empty() ? "flow_id" : "Idempotency-Key";
  OnBackend(ctx, std::move(respond), [flow = std::move(*parsed), key_field](Backend& b) {
    auto result = b.client->SubmitFlow(flow);
    if (!result.ok()) return StatusResponse(result.status());
    // Read back for the jobs' states (a job may have moved on already). The flow exists whatever
    // this read gives: a failed read leaves the states out rather than failing the submission.
    auto read = b.inspector->GetFlow(result->flow_id);
    std::optional<FlowView> view;
    if (read.ok()) view = std::move(*read);
    if (!result->created) {
      if (view && !SameTree(flow, *view)) {
        return StatusResponse(InvalidArgument(
            key_field, "names flow " + result->flow_id +
                           ", which holds other jobs; a retry must send the same flow"));
      }
      return JsonResponse(200, RenderSubmittedFlow(*result, view));
    }
    HttpResponse r = JsonResponse(201, RenderSubmittedFlow(*result, view));
    r.headers.emplace_back("Location", FlowLink(result->flow_id));
    return r;
  });
}

void GetFlow(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  OnBackend(ctx, std::move(respond), [id = params["id"]](Backend& b) {
    auto flow = b.inspector->GetFlow(id);
    if (!flow.ok()) return StatusResponse(flow.status());
    if (!flow->has_value()) return StatusResponse(FlowNotFound(id));
    return JsonResponse(200, RenderFlow(**flow));
  });
}

void CancelFlow(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                Respond respond) {
  if (!request.caller_types.empty()) {
    // A flow's cancel reaches jobs of every type in it.
    return respond(ErrorResponse(403, "forbidden",
                                 "this API key is limited to job types; cancelling a flow "
                                 "needs a key without a type list"));
  }
  OnBackend(ctx, std::move(respond), [id = params["id"]](Backend& b) {
    auto outcome = b.client->CancelFlow(id);
    if (!outcome.ok()) return StatusResponse(outcome.status());
    switch (*outcome) {
      case RemoveOutcome::kNotFound:
        return StatusResponse(FlowNotFound(id));
      case RemoveOutcome::kRefused:
        return StatusResponse(
            Status(StatusCode::kFailedPrecondition, "flow " + id +
                                                        " has finished: its root is completed or "
                                                        "dead, and nothing is left to cancel"));
      case RemoveOutcome::kStopRequested:
        return JsonResponse(202, RenderFlowCancel(id, *outcome));
      case RemoveOutcome::kRemoved:
        break;
    }
    return JsonResponse(200, RenderFlowCancel(id, *outcome));
  });
}

}  // namespace

void AddFlowRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  router.Add("POST", "/api/flows", Scope::kEnqueue,
             {"Submit a flow: a tree of jobs in one queue, each parent running once its children "
              "have settled, written in one atomic step. 201 with the flow; 200 with the existing "
              "one when its flow_id (or the Idempotency-Key header) is taken.",
              {},
              "FlowRequest",
              "FlowSubmitResult",
              {200, 201, 400, 409, 413, 415, 422, 429}},
             bind(SubmitFlow));
  router.Add("GET", "/api/flows/{id}", Scope::kRead,
             {"A flow: its state, and each job's place, state and children so far.",
              {},
              "",
              "Flow",
              {200, 404, 422}},
             bind(GetFlow));
  router.Add("DELETE", "/api/flows/{id}", Scope::kEnqueue,
             {"Cancel a flow: its root and every unfinished job below it go dead, cancelled "
              "(200); 202 when the root was running and its worker was asked to stop it. 409 "
              "once the root has finished.",
              {},
              "",
              "FlowCancelResult",
              {200, 202, 404, 409, 422}},
             bind(CancelFlow));
}

}  // namespace taskq::api
