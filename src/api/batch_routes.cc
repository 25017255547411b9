// /api/batches: submit a batch (many independent jobs in one queue, with callbacks), add to it,
// close it, read it, cancel it (docs/workflows.md, "Batches").
#include <string>
#include <utility>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/batch_json.h"
#include "api/batch_request.h"
#include "common/flow_ids.h"
#include "common/trace_parent.h"
#include "taskq/batch.h"

namespace taskq::api {
namespace {

Status BatchNotFound(const std::string& id) {
  return Status(StatusCode::kNotFound, "no batch with id '" + id + "' (or its record expired)",
                "id");
}

// The checks every job of a request passes before anything is written, all or nothing as a
// bulk: the caller may create each job's type; the request's traceparent goes on each job.
std::optional<HttpResponse> CheckJobs(const ApiContext& ctx, const HttpRequest& request,
                                      std::vector<std::pair<std::string, EnqueueRequest*>> jobs) {
  const std::string_view trace = request.Header("traceparent");
  if (!trace.empty()) {
    if (Status s = CheckTraceParent(trace); !s.ok()) return StatusResponse(s);
  }
  for (auto& [name, job] : jobs) {
    if (auto refused = TypeRefusal(ctx, request, job->type, name + ".type")) return refused;
    if (!trace.empty()) job->options.trace_parent = std::string(trace);
  }
  return std::nullopt;
}

void SubmitBatch(ApiContext& ctx, HttpRequest&& request, const RouteParams&, Respond respond) {
  auto parsed =
      ParseBatchRequest(request.body, request.Header("idempotency-key"), ctx.options.request_limits,
                        ctx.options.client.batch_limits, ctx.check_type);
  if (!parsed.ok()) return respond(BodyErrorResponse(parsed.status()));
  std::vector<std::pair<std::string, EnqueueRequest*>> jobs;
  for (size_t i = 0; i < parsed->jobs.size(); ++i) {
    jobs.emplace_back("jobs[" + std::to_string(i) + "]", &parsed->jobs[i]);
  }
  if (parsed->on_complete) jobs.emplace_back("on_complete", &*parsed->on_complete);
  if (parsed->on_success) jobs.emplace_back("on_success", &*parsed->on_success);
  if (auto refused = CheckJobs(ctx, request, std::move(jobs))) return respond(std::move(*refused));
  OnBackend(ctx, std::move(respond), [batch = std::move(*parsed)](Backend& b) {
    auto result = b.client->SubmitBatch(batch);
    if (!result.ok()) return StatusResponse(result.status());
    // Read back for its state. The batch exists whatever this read gives: a failed read leaves
    // the state out rather than failing the submission.
    auto read = b.inspector->GetBatch(result->batch_id);
    std::optional<BatchView> view;
    if (read.ok() && read->has_value()) view = std::move(**read);
    if (!result->created) return JsonResponse(200, RenderSubmittedBatch(*result, view));
    HttpResponse r = JsonResponse(201, RenderSubmittedBatch(*result, view));
    r.headers.emplace_back("Location", BatchLink(result->batch_id));
    return r;
  });
}

void AddToBatch(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                Respond respond) {
  const std::string id = params["id"];
  auto address = ParseFlowId(id);
  if (!address.ok()) return respond(StatusResponse(address.status()));
  auto parsed = ParseBatchAddition(request.body, request.Header("idempotency-key"), address->queue,
                                   ctx.options.request_limits, ctx.options.client.batch_limits,
                                   ctx.check_type);
  if (!parsed.ok()) return respond(BodyErrorResponse(parsed.status()));
  std::vector<std::pair<std::string, EnqueueRequest*>> jobs;
  for (size_t i = 0; i < parsed->jobs.size(); ++i) {
    jobs.emplace_back("jobs[" + std::to_string(i) + "]", &parsed->jobs[i]);
  }
  if (auto refused = CheckJobs(ctx, request, std::move(jobs))) return respond(std::move(*refused));
  OnBackend(ctx, std::move(respond), [id, addition = std::move(*parsed)](Backend& b) {
    auto result = b.client->AddToBatch(id, addition);
    if (!result.ok()) {
      if (result.status().code() == StatusCode::kFailedPrecondition) {
        return ErrorResponse(409, "batch_finished", result.status().message());
      }
      return StatusResponse(result.status());
    }
    return JsonResponse(result->created ? 201 : 200, RenderBatchAddition(*result));
  });
}

void CloseBatch(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  OnBackend(ctx, std::move(respond), [id = params["id"]](Backend& b) {
    auto closed = b.client->CloseBatch(id);
    if (!closed.ok()) return StatusResponse(closed.status());
    return JsonResponse(200, RenderBatchOutcome(id, *closed ? "closed" : "already_closed"));
  });
}

void GetBatch(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  OnBackend(ctx, std::move(respond), [id = params["id"]](Backend& b) {
    auto batch = b.inspector->GetBatch(id);
    if (!batch.ok()) return StatusResponse(batch.status());
    if (!batch->has_value()) return StatusResponse(BatchNotFound(id));
    return JsonResponse(200, RenderBatch(**batch));
  });
}

void CancelBatch(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                 Respond respond) {
  if (!request.caller_types.empty()) {
    // A batch's cancel reaches its jobs of every type.
    return respond(ErrorResponse(403, "forbidden",
                                 "this API key is limited to job types; cancelling a batch "
                                 "needs a key without a type list"));
  }
  OnBackend(ctx, std::move(respond), [id = params["id"]](Backend& b) {
    auto outcome = b.client->CancelBatch(id);
    if (!outcome.ok()) return StatusResponse(outcome.status());
    switch (*outcome) {
      case RemoveOutcome::kNotFound:
        return StatusResponse(BatchNotFound(id));
      case RemoveOutcome::kRefused:
        return ErrorResponse(409, "batch_finished",
                             "batch " + id +
                                 " has finished or was cancelled already: nothing "
                                 "is left to cancel");
      case RemoveOutcome::kRemoved:
      case RemoveOutcome::kStopRequested:
        break;
    }
    return JsonResponse(200, RenderBatchOutcome(id, "cancelled"));
  });
}

}  // namespace

void AddBatchRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  router.Add("POST", "/api/batches", Scope::kEnqueue,
             {"Submit a batch: independent jobs in one queue, with callbacks that run once they "
              "settled (on_complete) or all completed (on_success), written in one atomic step. "
              "201 with the batch; 200 when its batch_id (or the Idempotency-Key header) is "
              "taken.",
              {},
              "BatchRequest",
              "BatchSubmitResult",
              {200, 201, 400, 409, 413, 415, 422, 429}},
             bind(SubmitBatch));
  router.Add("POST", "/api/batches/{id}/jobs", Scope::kEnqueue,
             {"Add jobs to a batch that has not finished, in one atomic step. 201; 200 when this "
              "addition_id (or Idempotency-Key) was added before; 409 batch_finished once the "
              "batch finished or was cancelled.",
              {},
              "BatchAdditionRequest",
              "BatchAdditionResult",
              {200, 201, 400, 404, 409, 413, 415, 422, 429}},
             bind(AddToBatch));
  router.Add("POST", "/api/batches/{id}/close", Scope::kEnqueue,
             {"Close an open batch: no more jobs come, and its callbacks run once every member "
              "settled. outcome closed, or already_closed.",
              {},
              "",
              "BatchOutcome",
              {200, 404, 422}},
             bind(CloseBatch));
  router.Add(
      "GET", "/api/batches/{id}", Scope::kRead,
      {"A batch: its state, its counts and its callbacks.", {}, "", "Batch", {200, 404, 422}},
      bind(GetBatch));
  router.Add("DELETE", "/api/batches/{id}", Scope::kEnqueue,
             {"Cancel a batch: every unfinished member and the held callbacks go dead, cancelled "
              "(a running member is asked to stop). 409 batch_finished once it finished.",
              {},
              "",
              "BatchOutcome",
              {200, 404, 409, 422}},
             bind(CancelBatch));
}

}  // namespace taskq::api
