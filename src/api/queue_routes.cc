// /api/queues: counts and rates, job lists, pause/resume, retry of dead jobs, clean.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/job_actions.h"
#include "api/job_json.h"
#include "api/live_workers.h"
#include "api/query.h"
#include "common/job_codec.h"
#include "common/job_states.h"
#include "common/json_text.h"

namespace taskq::api {
namespace {

// The sample of a queue's lifetime totals: the counts' counters, and the wait-time histograms
// summed over job types.
QueueRates::Totals TotalsOf(const QueueCounts& c, const QueueTimings& timings) {
  QueueRates::Totals totals{c.completed_total, c.failed_total, 0, 0};
  for (const auto& [type, histogram] : timings.wait) {
    totals.wait_sum_ms += histogram.sum_ms;
    totals.wait_count += histogram.count;
  }
  return totals;
}

std::string RenderQueue(Backend& b, const std::string& name, const QueueCounts& c,
                        QueueRates& rates, const QueueService& service) {
  // Without the histograms no sample is taken: one without them would make the next one's
  // difference the lifetime's.
  auto timings = b.inspector->Timings(name);
  if (timings.ok()) rates.Sample(name, QueueRates::Clock::now(), TotalsOf(c, *timings));
  std::string out = "{\"name\":" + JsonString(name);
  out += fmt::format(
      ",\"paused\":{},\"counts\":{{\"waiting\":{},\"delayed\":{},\"active\":{},\"completed\":{},"
      "\"retrying\":{},\"dead\":{},\"held\":{}}},\"overrunning\":{},\"totals\":{{\"completed\":{},"
      "\"failed\":{},\"stalled\":{},\"overran\":{},\"enqueued\":{},\"retried\":{},"
      "\"dead\":{}}},\"callbacks_pending\":{}",
      c.paused ? "true" : "false", c.waiting, c.delayed, c.active, c.completed, c.retrying, c.dead,
      c.held, c.overrunning, c.completed_total, c.failed_total, c.stalled_total, c.overran_total,
      c.enqueued_total, c.retried_total, c.dead_total, c.callbacks_pending);
  const HandlerProcessCounts hp =
      timings.ok() ? timings->handler_processes : HandlerProcessCounts{};
  out += fmt::format(
      ",\"handler_processes\":{{\"alive\":{},\"started\":{},\"timed_out\":{},\"stopped\":{},"
      "\"out_of_memory\":{},\"crashed\":{}}}",
      service.handler_processes, hp.started, hp.timed_out, hp.stopped, hp.out_of_memory,
      hp.crashed);
  if (auto rate = rates.Rate(name)) {
    out += fmt::format(",\"per_minute\":{{\"processed\":{:.1f},\"failed\":{:.1f}}}",
                       rate->processed, rate->failed);
    out += rate->mean_wait_ms ? fmt::format(",\"mean_wait_ms\":{:.1f}", *rate->mean_wait_ms)
                              : std::string(",\"mean_wait_ms\":null");
  } else {
    out += ",\"per_minute\":null,\"mean_wait_ms\":null";
  }
  if (c.oldest_waiting_created_ms > 0) {
    out += fmt::format(",\"oldest_waiting_age_ms\":{}", c.oldest_waiting_age_ms());
  } else {
    out += ",\"oldest_waiting_age_ms\":null";
  }
  out += fmt::format(",\"workers\":{},\"shards\":{},\"job_types\":[", service.workers, c.shards);
  bool first = true;
  for (const std::string& type : service.job_types) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(&out, type);
  }
  out += "]}";
  return out;
}

Result<JobState> StateParam(std::string_view query, bool required) {
  auto text = QueryParam(query, "state");
  if (!text) {
    if (required) return InvalidArgument("state", "is required");
    return JobState::kWaiting;
  }
  auto state = ParseJobState(*text);
  if (!state) {
    return InvalidArgument("state", "must be one of " + JobStateChoices());
  }
  return *state;
}

void ListQueues(ApiContext& ctx, HttpRequest&&, const RouteParams&, Respond respond) {
  QueueRates& rates = ctx.rates;
  OnBackend(ctx, std::move(respond), [&rates](Backend& b) {
    auto queues = b.inspector->Queues();
    if (!queues.ok()) return StatusResponse(queues.status());
    auto workers = b.inspector->Workers();
    if (!workers.ok()) return StatusResponse(workers.status());
    auto per_queue = ServiceByQueue(*workers);
    std::string body = "{\"queues\":[";
    for (size_t i = 0; i < queues->size(); ++i) {
      auto counts = b.inspector->Counts((*queues)[i]);
      if (!counts.ok()) return StatusResponse(counts.status());
      if (i) body += ',';
      body += RenderQueue(b, (*queues)[i], *counts, rates, per_queue[(*queues)[i]]);
    }
    body += "]}";
    return JsonResponse(200, std::move(body));
  });
}

void GetQueue(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  QueueRates& rates = ctx.rates;
  OnBackend(ctx, std::move(respond), [&rates, queue = params["queue"]](Backend& b) {
    if (Status s = CheckKnownQueue(b, queue); !s.ok()) return StatusResponse(s);
    auto counts = b.inspector->Counts(queue);
    if (!counts.ok()) return StatusResponse(counts.status());
    auto workers = b.inspector->Workers();
    if (!workers.ok()) return StatusResponse(workers.status());
    return JsonResponse(200,
                        RenderQueue(b, queue, *counts, rates, ServiceByQueue(*workers)[queue]));
  });
}

// reverse=true|false: the opposite of the state's own order.
Result<ListOrder> OrderParam(std::string_view query) {
  auto text = QueryParam(query, "reverse");
  if (!text || *text == "false") return ListOrder::kDefault;
  if (*text == "true") return ListOrder::kReversed;
  return InvalidArgument("reverse", "must be true or false");
}

// type, error, and field with value: the filter of a job listing (empty when none is given).
Result<JobFilter> FilterParams(std::string_view query) {
  JobFilter filter;
  filter.type = QueryParam(query, "type").value_or("");
  filter.error = QueryParam(query, "error").value_or("");
  auto field = QueryParam(query, "field");
  auto value = QueryParam(query, "value");
  if (field && !value) return InvalidArgument("value", "is required with field");
  if (value && !field) return InvalidArgument("field", "is required with value");
  if (field) {
    // A dotted path into the job's data; "data." in front names the data itself.
    std::string_view path = *field;
    if (path.starts_with("data.")) path.remove_prefix(5);
    if (path.size() > JobFilter::kMaxTextBytes) {
      return InvalidArgument("field", "must be at most 256 bytes");
    }
    for (size_t from = 0;;) {
      const size_t dot = path.find('.', from);
      filter.field.emplace_back(path.substr(from, dot - from));
      if (dot == std::string_view::npos) break;
      from = dot + 1;
    }
    filter.value = std::move(*value);
  }
  TASKQ_RETURN_IF_ERROR(filter.Validate());
  return filter;
}

std::string NextCursor(const JobCursor& next, bool at_end) {
  return at_end ? "null" : "\"" + next.Encode() + "\"";
}

// A page with a next one links to it (RFC 8288), as next_cursor does in the body.
HttpResponse PageResponse(std::string body, const std::string& path, const std::string& query,
                          const JobCursor& next, bool at_end) {
  HttpResponse r = JsonResponse(200, std::move(body));
  if (!at_end) {
    r.headers.emplace_back(
        "Link",
        "<" + path + "?" + ReplaceQueryParam(query, "cursor", next.Encode()) + ">; rel=\"next\"");
  }
  return r;
}

std::string RenderJobPage(const std::string& queue, JobState state, const std::vector<Job>& jobs,
                          const DataView& view) {
  std::string body =
      "{\"queue\":" + JsonString(queue) + ",\"state\":\"" + JobStateName(state) + "\",\"jobs\":[";
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (i) body += ',';
    body += RenderJob(jobs[i], false, view);
  }
  return body + "]";
}

// Paging by an opaque cursor (taskq/job_cursor.h): after the last job listed where the state is
// a sorted set, an offset for the waiting jobs. Each page costs one range read plus one read per
// job listed, however long the queue. With a filter, the page holds the matches among at most
// `scan` jobs from the cursor (Inspector::Scan), and the cursor continues after the last job
// examined.
void ListJobs(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  auto state = StateParam(request.query, false);
  if (!state.ok()) return respond(StatusResponse(state.status()));
  auto limit = QueryInt(request.query, "limit", 50, 1, 1000);
  if (!limit.ok()) return respond(StatusResponse(limit.status()));
  JobCursor from;
  if (auto text = QueryParam(request.query, "cursor")) {
    auto cursor = JobCursor::Decode(*text);
    if (!cursor.ok()) return respond(StatusResponse(cursor.status()));
    from = std::move(*cursor);
  }
  auto order = OrderParam(request.query);
  if (!order.ok()) return respond(StatusResponse(order.status()));
  auto filter = FilterParams(request.query);
  if (!filter.ok()) return respond(StatusResponse(filter.status()));
  const DataView view = ctx.ViewFor(request);
  if (view.redact && !filter->field.empty() &&
      FiltersOnSecret(ctx.secret_fields, filter->type, filter->field[0])) {
    return respond(ErrorResponse(403, "forbidden",
                                 "field: data." + filter->field[0] +
                                     " holds secrets; only the admin scope may filter by it"));
  }
  auto scan = QueryInt(request.query, "scan", 10000, 1, Inspector::kMaxScan);
  if (!scan.ok()) return respond(StatusResponse(scan.status()));
  OnBackend(
      ctx, std::move(respond),
      [queue = params["queue"], state = *state, limit = *limit, from = std::move(from),
       order = *order, filter = std::move(*filter), scan = *scan, view, path = request.path,
       query = request.query](Backend& b) {
        if (Status s = CheckKnownQueue(b, queue); !s.ok()) return StatusResponse(s);
        if (filter.empty()) {
          auto page = b.inspector->Page(queue, state, from, limit, order);
          if (!page.ok()) return StatusResponse(page.status());
          return PageResponse(RenderJobPage(queue, state, page->jobs, view) +
                                  ",\"next_cursor\":" + NextCursor(page->next, page->at_end) + "}",
                              path, query, page->next, page->at_end);
        }
        auto found = b.inspector->Scan(queue, state, filter, from, scan, limit, order);
        if (!found.ok()) return StatusResponse(found.status());
        return PageResponse(RenderJobPage(queue, state, found->jobs, view) +
                                fmt::format(",\"scanned\":{},\"next_cursor\":{}}}", found->scanned,
                                            NextCursor(found->next, found->at_end)),
                            path, query, found->next, found->at_end);
      });
}

void SetAllPaused(ApiContext& ctx, Respond respond, bool pause) {
  OnBackend(ctx, std::move(respond), [pause](Backend& b) {
    auto changed = pause ? b.inspector->PauseAll() : b.inspector->ResumeAll();
    if (!changed.ok()) return StatusResponse(changed.status());
    return JsonResponse(200, fmt::format("{{\"paused\":{},\"changed\":{}}}", pause, *changed));
  });
}

void SetPaused(ApiContext& ctx, const RouteParams& params, Respond respond, bool pause) {
  OnBackend(ctx, std::move(respond), [queue = params["queue"], pause](Backend& b) {
    if (Status s = CheckKnownQueue(b, queue); !s.ok()) return StatusResponse(s);
    auto changed = pause ? b.inspector->Pause(queue) : b.inspector->Resume(queue);
    if (!changed.ok()) return StatusResponse(changed.status());
    return JsonResponse(200, fmt::format("{{\"queue\":{},\"paused\":{},\"changed\":{}}}",
                                         JsonString(queue), pause, *changed));
  });
}

// Body (optional): {"ids": ["a", "b"]} for those dead jobs (1 to 1000), or {"limit": N} for the
// oldest N (1 to 1000, the default; the retry_dead script moves at most 1000 per call).
void RetryDead(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  std::vector<std::string> ids;
  int64_t limit = 1000;
  if (!request.body.empty()) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(request.body, ec);
    if (ec) return respond(ErrorResponse(400, "malformed_json", "the body is not valid JSON"));
    if (!v.is_object())
      return respond(ErrorResponse(422, "invalid_field", "must be an object", "(body)"));
    for (const auto& [key, value] : v.get_object()) {
      if (key == "ids") {
        if (!value.is_array() || value.get_array().empty() || value.get_array().size() > 1000) {
          return respond(
              ErrorResponse(422, "invalid_field", "must be an array of 1 to 1000 job ids", "ids"));
        }
        for (const auto& id : value.get_array()) {
          if (!id.is_string()) {
            return respond(ErrorResponse(422, "invalid_field", "must hold strings", "ids"));
          }
          ids.emplace_back(id.get_string());
        }
      } else if (key == "limit") {
        if (!value.is_int64() || value.get_int64() < 1 || value.get_int64() > 1000) {
          return respond(
              ErrorResponse(422, "invalid_field", "must be an integer in [1, 1000]", "limit"));
        }
        limit = value.get_int64();
      } else {
        return respond(ErrorResponse(422, "invalid_field", "unknown field", std::string(key)));
      }
    }
  }
  OnBackend(ctx, std::move(respond),
            [queue = params["queue"], ids = std::move(ids), limit](Backend& b) {
              if (Status s = CheckKnownQueue(b, queue); !s.ok()) return StatusResponse(s);
              auto n = b.inspector->RetryDead(queue, ids, static_cast<int32_t>(limit));
              if (!n.ok()) return StatusResponse(n.status());
              return JsonResponse(
                  200, fmt::format("{{\"queue\":{},\"retried\":{}}}", JsonString(queue), *n));
            });
}

// Body {"action": "retry"|"promote"|"cancel"|"remove", "ids": [1 to 1000 job ids]}: each job is
// handled like its single-job route (job_actions.h), one after the other on one backend thread
// (two round trips per job: read it, act); a job that fails is reported and the others go on.
void JobActions(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                Respond respond) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(request.body, ec);
  if (ec) return respond(ErrorResponse(400, "malformed_json", "the body is not valid JSON"));
  if (!v.is_object()) {
    return respond(ErrorResponse(422, "invalid_field", "must be an object", "(body)"));
  }
  std::optional<JobAction> action;
  std::vector<std::string> ids;
  bool has_ids = false;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "action") {
      if (value.is_string()) action = ParseJobAction(value.get_string());
      if (!action) {
        return respond(ErrorResponse(422, "invalid_field",
                                     "must be one of retry, promote, cancel, remove", "action"));
      }
    } else if (key == "ids") {
      if (!value.is_array() || value.get_array().empty() || value.get_array().size() > 1000) {
        return respond(
            ErrorResponse(422, "invalid_field", "must be an array of 1 to 1000 job ids", "ids"));
      }
      has_ids = true;
      for (const auto& id : value.get_array()) {
        const std::string field = "ids[" + std::to_string(ids.size()) + "]";
        if (!id.is_string())
          return respond(ErrorResponse(422, "invalid_field", "must be a string", field));
        if (Status s = ValidateJobId(id.get_string()); !s.ok()) {
          return respond(ErrorResponse(422, "invalid_field", s.message(), field));
        }
        ids.emplace_back(id.get_string());
      }
    } else {
      return respond(ErrorResponse(422, "invalid_field", "unknown field", std::string(key)));
    }
  }
  if (!action) return respond(ErrorResponse(422, "invalid_field", "is required", "action"));
  if (!has_ids) return respond(ErrorResponse(422, "invalid_field", "is required", "ids"));
  OnBackend(ctx, std::move(respond),
            [queue = params["queue"], action = *action, ids = std::move(ids)](Backend& b) {
              if (Status s = CheckKnownQueue(b, queue); !s.ok()) return StatusResponse(s);
              std::string done, failed;
              for (const std::string& id : ids) {
                auto job = b.inspector->Find(id, queue);
                Status status = job.ok() ? Status::Ok() : job.status();
                if (status.ok() && !job->has_value()) status = JobNotFound(id);
                if (status.ok()) {
                  auto outcome = ApplyJobAction(b, action, **job);
                  if (!outcome.ok()) status = outcome.status();
                }
                std::string& list = status.ok() ? done : failed;
                if (!list.empty()) list += ',';
                if (status.ok()) {
                  list += JsonString(id);
                } else {
                  list += fmt::format("{{\"id\":{},\"code\":{},\"message\":{}}}", JsonString(id),
                                      JsonString(ErrorKindOf(status.code()).code),
                                      JsonString(status.message()));
                }
              }
              return JsonResponse(
                  200, fmt::format("{{\"queue\":{},\"action\":\"{}\",\"done\":[{}],"
                                   "\"failed\":[{}]}}",
                                   JsonString(queue), JobActionName(action), done, failed));
            });
}

void Clean(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  auto state = StateParam(request.query, true);
  if (!state.ok()) return respond(StatusResponse(state.status()));
  if (*state != JobState::kCompleted && *state != JobState::kDead) {
    return respond(
        ErrorResponse(422, "invalid_field", "only completed or dead jobs are cleaned", "state"));
  }
  auto older_than = QueryInt(request.query, "older_than_ms", 0, 0, int64_t{1} << 45);
  if (!older_than.ok()) return respond(StatusResponse(older_than.status()));
  auto limit = QueryInt(request.query, "limit", 10000, 1, 10000);
  if (!limit.ok()) return respond(StatusResponse(limit.status()));
  OnBackend(ctx, std::move(respond),
            [queue = params["queue"], state = *state, older_than = *older_than,
             limit = *limit](Backend& b) {
              if (Status s = CheckKnownQueue(b, queue); !s.ok()) return StatusResponse(s);
              auto n = b.inspector->Clean(queue, state, std::chrono::milliseconds(older_than),
                                          static_cast<int32_t>(limit));
              if (!n.ok()) return StatusResponse(n.status());
              return JsonResponse(
                  200, fmt::format("{{\"queue\":{},\"removed\":{}}}", JsonString(queue), *n));
            });
}

}  // namespace

Status CheckKnownQueue(Backend& b, const std::string& queue) {
  auto queues = b.inspector->Queues();
  if (!queues.ok()) return queues.status();
  for (const std::string& q : *queues) {
    if (q == queue) return Status::Ok();
  }
  return Status(StatusCode::kNotFound, "no queue named '" + queue + "'", "queue");
}

void AddQueueRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  router.Add("GET", "/api/queues", Scope::kRead,
             {"Every queue: counts per state, paused, totals, processed and failed per minute, "
              "oldest waiting age, live workers serving it.",
              {},
              "",
              "QueueList",
              {200}},
             bind(ListQueues));
  router.Add("GET", "/api/queues/{queue}", Scope::kRead,
             {"One queue, as in the list.", {}, "", "Queue", {200, 404}}, bind(GetQueue));
  router.Add("GET", "/api/queues/{queue}/jobs", Scope::kRead,
             {"A page of the queue's jobs in one state: waiting, delayed, retrying and active in "
              "run order, completed and dead newest first, held (flow parents waiting for their "
              "children) oldest first (reverse=true: the opposite). With a "
              "filter (type, error, field and value) the page holds the matches among at most "
              "scan jobs from the cursor, and says how many it examined (scanned).",
              {"state:string:waiting (default), delayed, active, completed, retrying, dead or held",
               "limit:integer:jobs per page, 1 to 1000 (default 50); with a filter, matches",
               "cursor:string:next_cursor of the previous page (opaque), or an offset",
               "reverse:boolean:true for the opposite of the state's order (default false)",
               "type:string:filter: the job type, exactly",
               "error:string:filter: a case-insensitive substring of the latest error (at most "
               "256 bytes)",
               "field:string:filter: a dotted path into the job's data (customer.email; a "
               "leading data. is dropped; at most 8 segments); needs value",
               "value:string:filter: what field must hold: a string field equals it, any other "
               "value's compact JSON does (42, true); at most 256 bytes; needs field",
               "scan:integer:with a filter: jobs examined at most, 1 to 50000 (default 10000)"},
              "",
              "JobPage",
              {200, 404, 422}},
             bind(ListJobs));
  router.Add("POST", "/api/queues/{queue}/jobs/actions", Scope::kAdmin,
             {"Retry, promote, cancel or remove up to 1000 jobs of the queue, each as its "
              "single-job route would; answers which were done and why the others failed.",
              {},
              "JobActionsRequest",
              "JobActionsResult",
              {200, 400, 404, 415, 422}},
             bind(JobActions));
  router.Add("POST", "/api/pause", Scope::kAdmin,
             {"Pause every queue: workers claim nothing until each is resumed. A queue first "
              "used afterwards is not paused.",
              {},
              "",
              "PauseAllResult",
              {200}},
             bind([](ApiContext& c, HttpRequest&&, const RouteParams&, Respond r) {
               SetAllPaused(c, std::move(r), true);
             }));
  router.Add("POST", "/api/resume", Scope::kAdmin,
             {"Resume every queue.", {}, "", "PauseAllResult", {200}},
             bind([](ApiContext& c, HttpRequest&&, const RouteParams&, Respond r) {
               SetAllPaused(c, std::move(r), false);
             }));
  router.Add("POST", "/api/queues/{queue}/pause", Scope::kAdmin,
             {"Pause a queue: workers claim nothing from it until it is resumed.",
              {},
              "",
              "PauseResult",
              {200, 404}},
             bind([](ApiContext& c, HttpRequest&&, const RouteParams& p, Respond r) {
               SetPaused(c, p, std::move(r), true);
             }));
  router.Add("POST", "/api/queues/{queue}/resume", Scope::kAdmin,
             {"Resume a paused queue.", {}, "", "PauseResult", {200, 404}},
             bind([](ApiContext& c, HttpRequest&&, const RouteParams& p, Respond r) {
               SetPaused(c, p, std::move(r), false);
             }));
  router.Add(
      "POST", "/api/queues/{queue}/dead/retry", Scope::kAdmin,
      {"Retry dead jobs: those listed in ids (1 to 1000), or the oldest limit (1 to 1000, default "
       "1000).",
       {},
       "RetryDeadRequest",
       "RetryDeadResult",
       {200, 400, 404, 415, 422}},
      bind(RetryDead));
  router.Add("DELETE", "/api/queues/{queue}/jobs", Scope::kAdmin,
             {"Remove completed or dead jobs that finished more than older_than_ms ago.",
              {"state:string:completed or dead (required)",
               "older_than_ms:integer:minimum age (default 0)",
               "limit:integer:at most this many, 1 to 10000 (default 10000)"},
              "",
              "CleanResult",
              {200, 404, 422}},
             bind(Clean));
}

}  // namespace taskq::api
