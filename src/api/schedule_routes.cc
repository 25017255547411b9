// /api/schedules: create, replace, list, read (with the next ten fire times and the last run),
// remove, pause, resume, run now (docs/http-api.md, "Schedules").
#include <fmt/format.h>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/job_json.h"
#include "common/json_text.h"
#include "common/percent_encoding.h"
#include "scheduler/fire_times.h"

namespace taskq::api {
namespace {

using scheduler::ScheduleInfo;

constexpr size_t kNextFireTimesShown = 10;

// The fire times to come: from the stored next one while active; after now while paused (where
// resuming would continue); none once ended.
std::vector<int64_t> UpcomingFireTimes(const ScheduleInfo& s, int64_t now_ms) {
  if (s.state.ended() || !s.definition_error.ok()) return {};
  auto compiled = scheduler::Compile(s.definition);
  if (!compiled.ok()) return {};
  if (s.state.paused) {
    return NextFireTimes(*compiled, now_ms, s.state.created_ms, kNextFireTimesShown);
  }
  std::vector<int64_t> out = {s.state.next_fire_ms};
  auto rest =
      NextFireTimes(*compiled, s.state.next_fire_ms, s.state.created_ms, kNextFireTimesShown - 1);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// The stored definition's fields, then the state. `detail`: the next ten fire times and the last
// run's job state (one more read).
std::string RenderSchedule(Backend& b, const ScheduleInfo& s, int64_t now_ms, bool detail,
                           const DataView& view) {
  std::string out;
  if (s.definition_error.ok()) {
    const std::vector<std::string>* secret =
        view.redact ? view.SecretFieldsOf(s.definition.type) : nullptr;
    if (secret == nullptr) {
      out = scheduler::EncodeScheduleDefinition(s.definition);
    } else {  // the job template's secrets, as RenderJob hides them
      scheduler::ScheduleDefinition shown = s.definition;
      shown.data_json = RedactData(shown.data_json, *secret);
      out = scheduler::EncodeScheduleDefinition(shown);
    }
    out.pop_back();  // the closing brace: the state follows
  } else {
    out = "{\"id\":" + JsonString(s.definition.id) +
          ",\"error\":" + JsonString(s.definition_error.ToString());
  }
  const scheduler::ScheduleState& st = s.state;
  out += fmt::format(
      ",\"status\":\"{}\",\"paused\":{},\"runs\":{},\"missed_runs\":{},\"late_ms\":{},"
      "\"created_ms\":{}",
      scheduler::ScheduleStatusName(s), st.paused, st.runs, st.missed,
      scheduler::ScheduleLateMs(s, now_ms), st.created_ms);
  out +=
      ",\"next_fire_ms\":" + (st.ended() ? std::string("null") : std::to_string(st.next_fire_ms));
  out += ",\"last_run\":";
  if (st.last_fire_ms == 0) {
    out += "null";
  } else {
    out += fmt::format("{{\"fire_time_ms\":{},\"job_id\":{}", st.last_fire_ms,
                       JsonString(st.last_job_id));
    if (detail) {
      // The job may be gone (retention); its state is then null.
      auto job = b.inspector->Find(st.last_job_id, s.definition.job_queue());
      out += ",\"job_state\":";
      out += job.ok() && job->has_value() ? JsonString(JobStateName((*job)->state))
                                          : std::string("null");
      out += ",\"job\":" + JsonString(JobLink(s.definition.job_queue(), st.last_job_id));
    }
    out += '}';
  }
  if (detail) {
    out += ",\"next_fire_times\":[";
    const std::vector<int64_t> upcoming = UpcomingFireTimes(s, now_ms);
    for (size_t i = 0; i < upcoming.size(); ++i) {
      out += (i ? "," : "") + std::to_string(upcoming[i]);
    }
    out += ']';
  }
  out += '}';
  return out;
}

// Reads and checks a definition body on the I/O thread (no Redis): field errors are 422, a body
// that is not JSON 400.
Result<scheduler::ScheduleDefinition> ParseBody(ApiContext& ctx, const HttpRequest& request,
                                                const std::string& path_id) {
  return scheduler::ParseScheduleDefinition(request.body, path_id, ctx.check_type);
}

HttpResponse RenderOne(Backend& b, const std::string& id, int status, const DataView& view) {
  auto found = b.schedules->Get(id);
  if (!found.ok()) return StatusResponse(found.status());
  if (!found->first) return StatusResponse(scheduler::NoSuchSchedule(id));
  HttpResponse r =
      JsonResponse(status, RenderSchedule(b, *found->first, found->second, true, view));
  if (status == 201) r.headers.emplace_back("Location", "/api/schedules/" + PercentEncode(id));
  return r;
}

void ListSchedules(ApiContext& ctx, HttpRequest&& request, const RouteParams&, Respond respond) {
  OnBackend(ctx, std::move(respond), [view = ctx.ViewFor(request)](Backend& b) {
    auto list = b.schedules->List();
    if (!list.ok()) return StatusResponse(list.status());
    std::string body = "{\"schedules\":[";
    for (size_t i = 0; i < list->schedules.size(); ++i) {
      if (i) body += ',';
      body += RenderSchedule(b, list->schedules[i], list->now_ms, false, view);
    }
    body += "]}";
    return JsonResponse(200, std::move(body));
  });
}

// Runs `work` on a backend thread unless the caller's key is limited to job types and the stored
// schedule `id` makes jobs of another type (403). A schedule that does not exist is work's to
// answer.
void OnScheduleOfCallersTypes(ApiContext& ctx, const HttpRequest& request, const std::string& id,
                              Respond respond, std::function<HttpResponse(Backend&)> work) {
  OnBackend(ctx, std::move(respond),
            [types = request.caller_types, id, work = std::move(work)](Backend& b) {
              if (!types.empty()) {
                auto found = b.schedules->Get(id);
                if (!found.ok()) return StatusResponse(found.status());
                if (found->first) {
                  if (auto refused = KeyTypeRefusal(types, found->first->definition.type, "id")) {
                    return std::move(*refused);
                  }
                }
              }
              return work(b);
            });
}

void CreateSchedule(ApiContext& ctx, HttpRequest&& request, const RouteParams&, Respond respond) {
  auto definition = ParseBody(ctx, request, "");
  if (!definition.ok()) return respond(BodyErrorResponse(definition.status()));
  if (auto refused = TypeRefusal(ctx, request, definition->type, "type")) {
    return respond(std::move(*refused));
  }
  OnBackend(ctx, std::move(respond),
            [definition = std::move(*definition), view = ctx.ViewFor(request)](Backend& b) {
              auto saved = b.schedules->Save(definition, /*create_only=*/true);
              if (!saved.ok()) return StatusResponse(saved.status());
              return RenderOne(b, definition.id, 201, view);
            });
}

void PutSchedule(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                 Respond respond) {
  auto definition = ParseBody(ctx, request, params["id"]);
  if (!definition.ok()) return respond(BodyErrorResponse(definition.status()));
  if (auto refused = TypeRefusal(ctx, request, definition->type, "type")) {
    return respond(std::move(*refused));
  }
  const std::string id = definition->id;
  OnScheduleOfCallersTypes(
      ctx, request, id, std::move(respond),
      [definition = std::move(*definition), view = ctx.ViewFor(request)](Backend& b) {
        auto saved = b.schedules->Save(definition, /*create_only=*/false);
        if (!saved.ok()) return StatusResponse(saved.status());
        return RenderOne(b, definition.id, *saved == scheduler::SaveOutcome::kCreated ? 201 : 200,
                         view);
      });
}

void GetSchedule(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                 Respond respond) {
  OnBackend(ctx, std::move(respond), [id = params["id"], view = ctx.ViewFor(request)](Backend& b) {
    return RenderOne(b, id, 200, view);
  });
}

void DeleteSchedule(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                    Respond respond) {
  OnScheduleOfCallersTypes(
      ctx, request, params["id"], std::move(respond), [id = params["id"]](Backend& b) {
        auto removed = b.schedules->Remove(id);
        if (!removed.ok()) return StatusResponse(removed.status());
        if (!*removed) return StatusResponse(scheduler::NoSuchSchedule(id));
        return JsonResponse(200, "{\"id\":" + JsonString(id) + ",\"removed\":true}");
      });
}

void SetPaused(ApiContext& ctx, const HttpRequest& request, const RouteParams& params,
               Respond respond, bool pause) {
  OnScheduleOfCallersTypes(
      ctx, request, params["id"], std::move(respond), [id = params["id"], pause](Backend& b) {
        auto changed = b.schedules->SetPaused(id, pause);
        if (!changed.ok()) return StatusResponse(changed.status());
        return JsonResponse(200, fmt::format("{{\"id\":{},\"paused\":{},\"changed\":{}}}",
                                             JsonString(id), pause, *changed));
      });
}

void RunNow(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  OnScheduleOfCallersTypes(ctx, request, params["id"], std::move(respond),
                           [id = params["id"]](Backend& b) {
                             auto result = b.schedules->RunNow(id);
                             if (!result.ok()) return StatusResponse(result.status());
                             return CreatedJobResponse(*result);
                           });
}

}  // namespace

void AddScheduleRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  router.Add("GET", "/api/schedules", Scope::kRead,
             {"Every schedule with its state: status, next fire time, runs, last run.",
              {},
              "",
              "ScheduleList",
              {200}},
             bind(ListSchedules));
  router.Add("POST", "/api/schedules", Scope::kAdmin,
             {"Create a schedule; an existing id is a conflict (409, use PUT to replace).",
              {},
              "ScheduleRequest",
              "Schedule",
              {201, 400, 409, 415, 422}},
             bind(CreateSchedule));
  router.Add("GET", "/api/schedules/{id}", Scope::kRead,
             {"One schedule with its next ten fire times and its last run's job.",
              {},
              "",
              "Schedule",
              {200, 404}},
             bind(GetSchedule));
  router.Add("PUT", "/api/schedules/{id}", Scope::kAdmin,
             {"Create or replace a schedule (201 created, 200 replaced or unchanged); a changed "
              "definition continues from the next fire time after now, runs are kept.",
              {},
              "ScheduleRequest",
              "Schedule",
              {200, 201, 400, 415, 422}},
             bind(PutSchedule));
  router.Add("DELETE", "/api/schedules/{id}", Scope::kAdmin,
             {"Remove a schedule; the jobs it enqueued stay.", {}, "", "", {200, 404}},
             bind(DeleteSchedule));
  router.Add("POST", "/api/schedules/{id}/pause", Scope::kAdmin,
             {"Pause a schedule: it fires nothing until resumed.",
              {},
              "",
              "SchedulePauseResult",
              {200, 404}},
             bind([](ApiContext& c, HttpRequest&& q, const RouteParams& p, Respond r) {
               SetPaused(c, q, p, std::move(r), true);
             }));
  router.Add("POST", "/api/schedules/{id}/resume", Scope::kAdmin,
             {"Resume a schedule from its next fire time after now (the ones passed while paused "
              "are not caught up).",
              {},
              "",
              "SchedulePauseResult",
              {200, 404}},
             bind([](ApiContext& c, HttpRequest&& q, const RouteParams& p, Respond r) {
               SetPaused(c, q, p, std::move(r), false);
             }));
  router.Add("POST", "/api/schedules/{id}/run", Scope::kAdmin,
             {"Enqueue one job from the schedule now, without advancing it.",
              {},
              "",
              "EnqueueResult",
              {201, 404}},
             bind(RunNow));
}

}  // namespace taskq::api
