// /api/queues/{queue}/limits: the rate and concurrency limits every worker of a queue obeys.
#include <fmt/format.h>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/limits_request.h"
#include "common/json_text.h"

namespace taskq::api {
namespace {

std::string RenderRate(const RateLimit& rate) {
  if (!rate.enabled()) return "null";
  return fmt::format("{{\"max\":{},\"window_ms\":{}}}", rate.max, rate.window.count());
}

std::string RenderLimits(const std::string& queue, const QueueLimits& limits) {
  std::string out = "{\"queue\":" + JsonString(queue) + ",\"rate\":" + RenderRate(limits.rate);
  out += ",\"concurrency\":";
  out += limits.concurrency > 0 ? std::to_string(limits.concurrency) : "null";
  out += ",\"group\":{\"rate\":" + RenderRate(limits.group_rate) + ",\"concurrency\":";
  out += limits.group_concurrency > 0 ? std::to_string(limits.group_concurrency) : "null";
  out += ",\"field\":";
  out += limits.group_field.empty() ? "null" : JsonString(limits.group_field);
  out += "},\"priority_aging_ms\":";
  out += limits.priority_aging.count() > 0 ? std::to_string(limits.priority_aging.count()) : "null";
  out += ",\"max_length\":";
  out += limits.max_length > 0 ? std::to_string(limits.max_length) : "null";
  return out + "}";
}

void GetLimits(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  OnBackend(ctx, std::move(respond), [queue = params["queue"]](Backend& b) {
    auto limits = b.inspector->Limits(queue);
    if (!limits.ok()) return StatusResponse(limits.status());
    return JsonResponse(200, RenderLimits(queue, *limits));
  });
}

void PutLimits(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  auto limits = ParseLimitsRequest(request.body);
  if (!limits.ok()) return respond(BodyErrorResponse(limits.status()));
  OnBackend(ctx, std::move(respond), [queue = params["queue"], limits = *limits](Backend& b) {
    if (Status s = b.inspector->SetLimits(queue, limits); !s.ok()) return StatusResponse(s);
    return JsonResponse(200, RenderLimits(queue, limits));
  });
}

}  // namespace

void AddLimitRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  router.Add("GET", "/api/queues/{queue}/limits", Scope::kRead,
             {"The queue's rate and concurrency limits (null: none).", {}, "", "Limits", {200}},
             bind(GetLimits));
  router.Add("PUT", "/api/queues/{queue}/limits", Scope::kAdmin,
             {"Replace the queue's limits; every worker obeys them from its next claim. A field "
              "left out or null removes that limit. rate: at most max jobs start in any window "
              "of window_ms (default 1000); concurrency: at most this many active at once; "
              "group: the same per group, and field, a data field naming the group of jobs "
              "enqueued without one (groups take turns); priority_aging_ms: a waiting job gains "
              "one priority step per this many ms; max_length: at most this many jobs waiting, "
              "delayed or retrying, beyond which enqueues answer 429.",
              {},
              "Limits",
              "Limits",
              {200, 400, 415, 422}},
             bind(PutLimits));
}

}  // namespace taskq::api
