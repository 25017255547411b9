// /api/jobs: enqueue (one and bulk), read, cancel, retry, promote, wait.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/job_actions.h"
#include "api/job_json.h"
#include "api/live_workers.h"
#include "api/query.h"
#include "common/job_codec.h"
#include "common/json_text.h"
#include "common/text_list.h"
#include "common/trace_parent.h"

namespace taskq::api {
namespace {

bool Finished(JobState state) { return state == JobState::kCompleted || state == JobState::kDead; }

// Resolves {id} (and ?queue=) on a backend thread, then runs `then` with the job.
void WithJob(ApiContext& ctx, const HttpRequest& request, const RouteParams& params,
             Respond respond, std::function<HttpResponse(Backend&, const Job&)> then) {
  std::string queue = QueryParam(request.query, "queue").value_or("");
  std::string id = params["id"];
  OnBackend(ctx, std::move(respond),
            [queue = std::move(queue), id = std::move(id), then = std::move(then)](Backend& b) {
              auto job = b.inspector->Find(id, queue);
              if (!job.ok()) return StatusResponse(job.status());
              if (!job->has_value()) return StatusResponse(JobNotFound(id));
              return then(b, **job);
            });
}

// The W3C traceparent header of an enqueue (every job of a bulk belongs to its trace); empty
// when there is none, 422 naming the header when it is malformed.
Result<std::string> TraceParentOf(const HttpRequest& request) {
  const std::string_view header = request.Header("traceparent");
  if (header.empty()) return std::string();
  TASKQ_RETURN_IF_ERROR(CheckTraceParent(header));
  return std::string(header);
}

// What an enqueue with an Idempotency-Key asked for, to compare with the job the key names.
struct IdempotentRequest {
  std::string type;
  std::string data_json;  // as stored: the producer's text without whitespace between tokens
};

void Enqueue(ApiContext& ctx, HttpRequest&& request, const RouteParams&, Respond respond) {
  auto parsed = ParseJobRequest(request.body, request.Header("idempotency-key"),
                                ctx.options.request_limits, ctx.check_type);
  if (!parsed.ok()) return respond(BodyErrorResponse(parsed.status()));
  if (auto refused = TypeRefusal(ctx, request, parsed->type, "type")) {
    return respond(std::move(*refused));
  }
  auto trace = TraceParentOf(request);
  if (!trace.ok()) return respond(StatusResponse(trace.status()));
  parsed->options.trace_parent = std::move(*trace);
  BackendPool& pool = ctx.pool;
  // With an Idempotency-Key, a retry must be the same request: what it asks for is compared with
  // the job the key already names.
  std::optional<IdempotentRequest> idempotent;
  if (!request.Header("idempotency-key").empty()) {
    idempotent = IdempotentRequest{parsed->type, parsed->data_json};
  }
  ctx.batcher.Submit(
      std::move(*parsed), [&pool, view = ctx.ViewFor(request), idempotent = std::move(idempotent),
                           respond = std::move(respond)](Result<EnqueueResult> result) {
        if (!result.ok()) return respond(StatusResponse(result.status()));
        if (result->created) return respond(CreatedJobResponse(*result));
        // The id existed, or another job holds the unique key: answer with that
        // job as it is now (200, nothing changed).
        pool.Post([respond, view, idempotent, existing = std::move(*result)](Backend& b) {
          auto job = b.client->Get(existing.queue, existing.id);
          if (!job.ok()) return respond(StatusResponse(job.status()));
          // Removed meanwhile; a ttl key outlives its holder (docs/redis-keys.md).
          if (!job->has_value() && existing.unique_hit)
            return respond(JsonResponse(200, RenderEnqueueResult(existing)));
          if (!job->has_value()) return respond(StatusResponse(JobNotFound(existing.id)));
          if (idempotent && !existing.unique_hit &&
              (idempotent->type != (*job)->type || idempotent->data_json != (*job)->data_json)) {
            return respond(StatusResponse(
                InvalidArgument("Idempotency-Key",
                                "was used before for a job of another type or "
                                "other data (job " +
                                    existing.id + "); a retry must send the same request")));
          }
          respond(JsonResponse(200, RenderExistingJob(**job, existing, view)));
        });
      });
}

void EnqueueBulk(ApiContext& ctx, HttpRequest&& request, const RouteParams&, Respond respond) {
  auto parsed = ParseBulkRequest(request.body, ctx.options.request_limits, ctx.check_type);
  if (!parsed.ok()) return respond(BodyErrorResponse(parsed.status()));
  auto trace = TraceParentOf(request);
  if (!trace.ok()) return respond(StatusResponse(trace.status()));
  for (EnqueueRequest& job : *parsed) job.options.trace_parent = *trace;
  for (size_t i = 0; i < parsed->size(); ++i) {  // all or nothing, as the rest of a bulk
    const std::string field = "jobs[" + std::to_string(i) + "].type";
    if (auto refused = TypeRefusal(ctx, request, (*parsed)[i].type, field)) {
      return respond(std::move(*refused));
    }
  }
  OnBackend(ctx, std::move(respond), [requests = std::move(*parsed)](Backend& b) {
    auto results = b.client->EnqueueBulk(requests);
    if (!results.ok()) return StatusResponse(results.status());
    std::string body = "{\"jobs\":[";
    for (size_t i = 0; i < results->size(); ++i) {
      if (i) body += ',';
      body += RenderEnqueueResult((*results)[i]);
    }
    body += "]}";
    return JsonResponse(201, std::move(body));
  });
}

// Retry, promote, cancel or remove one job (job_actions.h). Retry and promote answer the state the
// job is in now; cancel and remove what became of it (202 while a cancelled job still runs).
void RunAction(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond,
               JobAction action) {
  WithJob(ctx, request, params, std::move(respond),
          [&ctx, action, types = request.caller_types](Backend& b, const Job& job) {
            if (auto refused = KeyTypeRefusal(types, job.type, "id")) return std::move(*refused);
            auto outcome = ApplyJobAction(b, action, job);
            if (!outcome.ok()) return StatusResponse(outcome.status());
            std::string body =
                "{\"id\":" + JsonString(job.id) + ",\"queue\":" + JsonString(job.queue);
            switch (*outcome) {
              case ActionOutcome::kWaiting:
                return JsonResponse(200, body + ",\"state\":\"waiting\"}");
              case ActionOutcome::kRemoved:
                return JsonResponse(200, body + ",\"outcome\":\"removed\"}");
              case ActionOutcome::kStopRequested:
                break;
            }
            return JsonResponse(202, body + ",\"outcome\":\"stop_requested\"}");
          });
}

// Adapts RunAction for one action to a route handler.
RouteHandler ActionRoute(ApiContext& ctx, JobAction action) {
  return BindRoute(ctx,
                   [action](ApiContext& c, HttpRequest&& r, const RouteParams& p, Respond respond) {
                     RunAction(c, std::move(r), p, std::move(respond), action);
                   });
}

// Long poll: re-reads the job on a backend thread, instead of holding one, when an event names
// it (JobWaiters) and at the latest every kWaitFallback (a change the events did not show),
// until it is finished or the deadline passes (200 with the job as it is then: the caller reads
// its state; a 408 would say the client was too slow). Wakes and timers may run a step at the
// same time: `answered` lets one answer.
constexpr std::chrono::milliseconds kWaitFallback{1000};

struct WaitState {
  std::string queue, id;
  DataView view;
  std::chrono::steady_clock::time_point deadline;
  Respond respond;
  std::mutex mu;
  bool answered = false;       // guarded by mu
  bool timer_pending = false;  // guarded by mu
  int64_t ticket = 0;          // guarded by mu: its JobWaiters entry, 0 none
};

void WaitStep(BackendPool& pool, JobWaiters& waiters, std::shared_ptr<WaitState> wait, Backend& b);

void WaitAnswer(JobWaiters& waiters, WaitState& wait, HttpResponse response) {
  Respond respond;
  {
    std::lock_guard lock(wait.mu);
    if (wait.answered) return;
    wait.answered = true;
    if (wait.ticket != 0) waiters.Remove(wait.ticket);
    // Released with this call: a timer still pending keeps the state, not the connection's
    // answer, which must not outlive the server.
    respond = std::move(wait.respond);
  }
  respond(std::move(response));
}

void WaitStep(BackendPool& pool, JobWaiters& waiters, std::shared_ptr<WaitState> wait, Backend& b) {
  {
    std::lock_guard lock(wait->mu);
    if (wait->answered) return;
  }
  auto job = b.inspector->Find(wait->id, wait->queue);
  if (!job.ok()) return WaitAnswer(waiters, *wait, StatusResponse(job.status()));
  if (!job->has_value()) return WaitAnswer(waiters, *wait, StatusResponse(JobNotFound(wait->id)));
  const auto now = std::chrono::steady_clock::now();
  if (Finished((*job)->state) || now >= wait->deadline) {
    return WaitAnswer(waiters, *wait, JsonResponse(200, RenderJob(**job, true, wait->view)));
  }
  std::lock_guard lock(wait->mu);
  if (wait->answered) return;
  wait->queue = (*job)->queue;  // found once: look only there from now on
  auto step = [&pool, &waiters, wait](Backend& next) { WaitStep(pool, waiters, wait, next); };
  // The next event naming the job (its ticket is replaced: one entry per wait).
  if (wait->ticket != 0) waiters.Remove(wait->ticket);
  wait->ticket = waiters.Add(wait->queue, wait->id, [&pool, step] { pool.Post(step); });
  if (!wait->timer_pending) {
    wait->timer_pending = true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wait->deadline - now) +
                      std::chrono::milliseconds(1);
    pool.PostAfter(std::min(kWaitFallback, left), [step, wait](Backend& next) {
      {
        std::lock_guard timer_lock(wait->mu);
        wait->timer_pending = false;
      }
      step(next);
    });
  }
}

void Wait(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  const int64_t cap = ctx.options.max_wait.count();
  auto timeout = QueryInt(request.query, "timeout_ms", std::min<int64_t>(30000, cap), 0, cap);
  if (!timeout.ok()) return respond(StatusResponse(timeout.status()));
  auto wait = std::make_shared<WaitState>();
  wait->queue = QueryParam(request.query, "queue").value_or("");
  wait->id = params["id"];
  wait->view = ctx.ViewFor(request);
  wait->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout);
  wait->respond = std::move(respond);
  BackendPool& pool = ctx.pool;
  JobWaiters& waiters = ctx.waiters;
  pool.Post([&pool, &waiters, wait](Backend& b) { WaitStep(pool, waiters, wait, b); });
}

}  // namespace

std::optional<HttpResponse> KeyTypeRefusal(const std::vector<std::string>& caller_types,
                                           const std::string& type, const std::string& field) {
  if (caller_types.empty()) return std::nullopt;
  if (std::find(caller_types.begin(), caller_types.end(), type) != caller_types.end()) {
    return std::nullopt;
  }
  return ErrorResponse(403, "forbidden",
                       "this API key is limited to jobs of type " + JoinList(caller_types) + "; '" +
                           type + "' is not one (" + field + ")");
}

std::optional<HttpResponse> TypeRefusal(const ApiContext& ctx, const HttpRequest& request,
                                        const std::string& type, const std::string& field) {
  if (!request.caller_admin) {
    for (const std::string& admin_only : ctx.options.admin_only_types) {
      if (type == admin_only) {
        return ErrorResponse(403, "forbidden",
                             "jobs of type '" + type + "' need the admin scope (" + field + ")");
      }
    }
  }
  return KeyTypeRefusal(request.caller_types, type, field);
}

void AddJobRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  router.Add("POST", "/api/jobs", Scope::kEnqueue,
             {"Enqueue a job. 201 with the new job; 200 with the existing one when job_id (or the "
              "Idempotency-Key header) is taken.",
              {},
              "JobRequest",
              "EnqueueResult",
              {200, 201, 400, 413, 415, 422, 429}},
             bind(Enqueue));
  router.Add("POST", "/api/jobs/bulk", Scope::kEnqueue,
             {"Enqueue many jobs in one batch; all are validated before any is written.",
              {},
              "BulkRequest",
              "BulkResult",
              {201, 400, 413, 415, 422, 429}},
             bind(EnqueueBulk));
  router.Add(
      "GET", "/api/jobs/{id}", Scope::kRead,
      {"A job with its data, options, attempts, errors, logs, progress and result.",
       {"queue:string:the job's queue (faster; default: search every queue)"},
       "",
       "Job",
       {200, 404}},
      bind([](ApiContext& c, HttpRequest&& r, const RouteParams& p, Respond respond) {
        WithJob(c, r, p, std::move(respond), [view = c.ViewFor(r)](Backend& b, const Job& job) {
          std::string body = RenderJob(job, true, view);
          // Whether a live worker of its queue can run it (a rolling deploy may
          // not have reached any yet); left out when the workers cannot be read.
          if (auto workers = b.inspector->Workers(); workers.ok()) {
            const std::string field = LiveHandlerField(job, ServiceByQueue(*workers)[job.queue]);
            // RenderJob's object opens with '{' and holds fields: "," + field
            // goes before its closing '}'.
            if (!field.empty()) body.insert(body.size() - 1, field);
          }
          return JsonResponse(200, std::move(body));
        });
      }));
  router.Add("DELETE", "/api/jobs/{id}", Scope::kEnqueue,
             {"Cancel a job: a waiting, delayed or retrying job is removed (200); an active job's "
              "worker is asked to stop it (202), after which it is dead.",
              {"queue:string:the job's queue"},
              "",
              "CancelResult",
              {200, 202, 404, 409}},
             ActionRoute(ctx, JobAction::kCancel));
  router.Add("POST", "/api/jobs/{id}/retry", Scope::kAdmin,
             {"Retry a dead job (or cut a retrying job's backoff short).",
              {"queue:string:the job's queue"},
              "",
              "StateResult",
              {200, 404, 409}},
             ActionRoute(ctx, JobAction::kRetry));
  router.Add("POST", "/api/jobs/{id}/promote", Scope::kAdmin,
             {"Run a delayed or retrying job now.",
              {"queue:string:the job's queue"},
              "",
              "StateResult",
              {200, 404, 409}},
             ActionRoute(ctx, JobAction::kPromote));
  router.Add("POST", "/api/jobs/{id}/remove", Scope::kAdmin,
             {"Remove a job that is not running (waiting, delayed, retrying, completed or dead) "
              "with all its keys; an active job is 409 (cancel it instead).",
              {"queue:string:the job's queue"},
              "",
              "CancelResult",
              {200, 404, 409}},
             ActionRoute(ctx, JobAction::kRemove));
  router.Add("GET", "/api/jobs/{id}/wait", Scope::kRead,
             {"Wait until the job is completed or dead, or until timeout_ms passes; 200 with the "
              "job as it is then (its state says which).",
              {"timeout_ms:integer:how long to wait (default 30000 or the cap if lower; at most "
               "the configured cap, --max-wait-ms)",
               "queue:string:the job's queue"},
              "",
              "Job",
              {200, 404}},
             bind(Wait));
}

}  // namespace taskq::api
