// /api/queues: counts and rates, job lists, pause/resume, retry of dead jobs, clean.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/job_json.h"
#include "api/query.h"
#include "common/json_text.h"

namespace taskq::api {
namespace {

// How many live workers serve each queue.
std::map<std::string, int> WorkersPerQueue(const Inspector::WorkerList& list) {
  std::map<std::string, int> out;
  for (const WorkerInfo& w : list.workers) {
    for (const WorkerQueueInfo& q : w.queues) ++out[q.queue];
  }
  return out;
}

std::string RenderQueue(const std::string& name, const QueueCounts& c, QueueRates& rates,
                        int workers) {
  rates.Sample(name, QueueRates::Clock::now(), c.completed_total, c.failed_total);
  std::string out = "{\"name\":" + JsonString(name);
  out += fmt::format(
      ",\"paused\":{},\"counts\":{{\"waiting\":{},\"delayed\":{},\"active\":{},\"completed\":{},"
      "\"retrying\":{},\"dead\":{}}},\"totals\":{{\"completed\":{},\"failed\":{},\"stalled\":{}}}",
      c.paused ? "true" : "false", c.waiting, c.delayed, c.active, c.completed, c.retrying, c.dead,
      c.completed_total, c.failed_total, c.stalled_total);
  if (auto rate = rates.Rate(name)) {
    out += fmt::format(",\"per_minute\":{{\"processed\":{:.1f},\"failed\":{:.1f}}}",
                       rate->processed, rate->failed);
  } else {
    out += ",\"per_minute\":null";
  }
  if (c.oldest_waiting_created_ms > 0) {
    out += fmt::format(",\"oldest_waiting_age_ms\":{}",
                       std::max<int64_t>(0, c.now_ms - c.oldest_waiting_created_ms));
  } else {
    out += ",\"oldest_waiting_age_ms\":null";
  }
  out += fmt::format(",\"workers\":{}}}", workers);
  return out;
}

// 404 unless the queue is known (enqueued to or worked on at least once).
Status CheckKnown(Backend& b, const std::string& queue) {
  auto queues = b.inspector->Queues();
  if (!queues.ok()) return queues.status();
  for (const std::string& q : *queues) {
    if (q == queue) return Status::Ok();
  }
  return Status(StatusCode::kNotFound, "no queue named '" + queue + "'", "queue");
}

Result<JobState> StateParam(std::string_view query, bool required) {
  auto text = QueryParam(query, "state");
  if (!text) {
    if (required) return InvalidArgument("state", "is required");
    return JobState::kWaiting;
  }
  auto state = ParseJobState(*text);
  if (!state) {
    return InvalidArgument("state",
                           "must be one of waiting, delayed, active, completed, retrying, dead");
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
    auto per_queue = WorkersPerQueue(*workers);
    std::string body = "{\"queues\":[";
    for (size_t i = 0; i < queues->size(); ++i) {
      auto counts = b.inspector->Counts((*queues)[i]);
      if (!counts.ok()) return StatusResponse(counts.status());
      if (i) body += ',';
      body += RenderQueue((*queues)[i], *counts, rates, per_queue[(*queues)[i]]);
    }
    body += "]}";
    return JsonResponse(200, std::move(body));
  });
}

void GetQueue(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  QueueRates& rates = ctx.rates;
  OnBackend(ctx, std::move(respond), [&rates, queue = params["queue"]](Backend& b) {
    if (Status s = CheckKnown(b, queue); !s.ok()) return StatusResponse(s);
    auto counts = b.inspector->Counts(queue);
    if (!counts.ok()) return StatusResponse(counts.status());
    auto workers = b.inspector->Workers();
    if (!workers.ok()) return StatusResponse(workers.status());
    return JsonResponse(200, RenderQueue(queue, *counts, rates, WorkersPerQueue(*workers)[queue]));
  });
}

// Paging by an opaque cursor (the offset into the state's order): each page costs one range read
// plus one read per job listed, however long the queue.
void ListJobs(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  auto state = StateParam(request.query, false);
  if (!state.ok()) return respond(StatusResponse(state.status()));
  auto limit = QueryInt(request.query, "limit", 50, 1, 1000);
  if (!limit.ok()) return respond(StatusResponse(limit.status()));
  auto offset = QueryInt(request.query, "cursor", 0, 0, int64_t{1} << 40);
  if (!offset.ok()) return respond(StatusResponse(offset.status()));
  OnBackend(
      ctx, std::move(respond),
      [queue = params["queue"], state = *state, limit = *limit, offset = *offset](Backend& b) {
        if (Status s = CheckKnown(b, queue); !s.ok()) return StatusResponse(s);
        auto jobs = b.inspector->List(queue, state, offset, limit);
        if (!jobs.ok()) return StatusResponse(jobs.status());
        std::string body = "{\"queue\":" + JsonString(queue) + ",\"state\":\"" +
                           JobStateName(state) + "\",\"jobs\":[";
        for (size_t i = 0; i < jobs->size(); ++i) {
          if (i) body += ',';
          body += RenderJob((*jobs)[i], false);
        }
        body += "],\"next_cursor\":";
        body += static_cast<int64_t>(jobs->size()) == limit
                    ? "\"" + std::to_string(offset + limit) + "\""
                    : std::string("null");
        body += '}';
        return JsonResponse(200, std::move(body));
      });
}

void SetPaused(ApiContext& ctx, const RouteParams& params, Respond respond, bool pause) {
  OnBackend(ctx, std::move(respond), [queue = params["queue"], pause](Backend& b) {
    if (Status s = CheckKnown(b, queue); !s.ok()) return StatusResponse(s);
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
              if (Status s = CheckKnown(b, queue); !s.ok()) return StatusResponse(s);
              auto n = b.inspector->RetryDead(queue, ids, static_cast<int32_t>(limit));
              if (!n.ok()) return StatusResponse(n.status());
              return JsonResponse(
                  200, fmt::format("{{\"queue\":{},\"retried\":{}}}", JsonString(queue), *n));
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
              if (Status s = CheckKnown(b, queue); !s.ok()) return StatusResponse(s);
              auto n = b.inspector->Clean(queue, state, std::chrono::milliseconds(older_than),
                                          static_cast<int32_t>(limit));
              if (!n.ok()) return StatusResponse(n.status());
              return JsonResponse(
                  200, fmt::format("{{\"queue\":{},\"removed\":{}}}", JsonString(queue), *n));
            });
}

}  // namespace

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
              "run order, completed and dead newest first.",
              {"state:string:waiting (default), delayed, active, completed, retrying or dead",
               "limit:integer:jobs per page, 1 to 1000 (default 50)",
               "cursor:string:next_cursor of the previous page"},
              "",
              "JobPage",
              {200, 404}},
             bind(ListJobs));
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
       {200, 400, 404, 422}},
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
