// /api/queues/{queue}/limits: the rate and concurrency limits every worker of a queue obeys.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "api/api_context.h"
#include "api/api_error.h"
#include "common/json_text.h"

namespace taskq::api {
namespace {

namespace json = boost::json;

std::string RenderLimits(const std::string& queue, const QueueLimits& limits) {
  std::string out = "{\"queue\":" + JsonString(queue) + ",\"rate\":";
  out += limits.rate.enabled() ? fmt::format("{{\"max\":{},\"window_ms\":{}}}", limits.rate.max,
                                             limits.rate.window.count())
                               : "null";
  out += ",\"concurrency\":";
  out += limits.concurrency > 0 ? std::to_string(limits.concurrency) : "null";
  return out + "}";
}

// An integer field in [low, high]; kInvalidArgument naming `field` otherwise.
Result<int64_t> BoundedInt(const json::value& v, const std::string& field, int64_t low,
                           int64_t high) {
  if (!v.is_int64() || v.get_int64() < low || v.get_int64() > high) {
    return InvalidArgument(field, fmt::format("must be an integer from {} to {}", low, high));
  }
  return v.get_int64();
}

// {"rate": {"max": N, "window_ms": W} | null, "concurrency": N | null}; a field left out means
// no such limit (the body replaces the queue's limits as a whole).
Result<QueueLimits> ParseLimits(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "the body is not valid JSON");
  if (!v.is_object()) return InvalidArgument("(body)", "must be a JSON object");
  QueueLimits limits;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "rate") {
      if (value.is_null()) continue;
      if (!value.is_object()) return InvalidArgument("rate", "must be an object or null");
      for (const auto& [rate_key, rate_value] : value.get_object()) {
        if (rate_key == "max") {
          auto max = BoundedInt(rate_value, "rate.max", 1, kMaxRateLimit);
          if (!max.ok()) return max.status();
          limits.rate.max = *max;
        } else if (rate_key == "window_ms") {
          auto window = BoundedInt(rate_value, "rate.window_ms", 1, kMaxRateWindow.count());
          if (!window.ok()) return window.status();
          limits.rate.window = std::chrono::milliseconds(*window);
        } else {
          return InvalidArgument("rate." + std::string(rate_key), "unknown field");
        }
      }
      if (!limits.rate.enabled()) return InvalidArgument("rate.max", "is required");
    } else if (key == "concurrency") {
      if (value.is_null()) continue;
      auto n = BoundedInt(value, "concurrency", 1, kMaxConcurrencyLimit);
      if (!n.ok()) return n.status();
      limits.concurrency = static_cast<int32_t>(*n);
    } else {
      return InvalidArgument(std::string(key), "unknown field");
    }
  }
  return limits;
}

void GetLimits(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  OnBackend(ctx, std::move(respond), [queue = params["queue"]](Backend& b) {
    auto limits = b.inspector->Limits(queue);
    if (!limits.ok()) return StatusResponse(limits.status());
    return JsonResponse(200, RenderLimits(queue, *limits));
  });
}

void PutLimits(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  auto limits = ParseLimits(request.body);
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
              "of window_ms (default 1000); concurrency: at most this many active at once.",
              {},
              "Limits",
              "Limits",
              {200, 400, 422}},
             bind(PutLimits));
}

}  // namespace taskq::api
