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

// An integer field in [low, high]; kInvalidArgument naming `field` otherwise.
Result<int64_t> BoundedInt(const json::value& v, const std::string& field, int64_t low,
                           int64_t high) {
  if (!v.is_int64() || v.get_int64() < low || v.get_int64() > high) {
    return InvalidArgument(field, fmt::format("must be an integer from {} to {}", low, high));
  }
  return v.get_int64();
}

// {"max": N, "window_ms": W} or null (no limit) at `field`.
Status ReadRate(const json::value& value, const std::string& field, RateLimit* rate) {
  *rate = RateLimit{};
  if (value.is_null()) return Status::Ok();
  if (!value.is_object()) return InvalidArgument(field, "must be an object or null");
  for (const auto& [key, item] : value.get_object()) {
    if (key == "max") {
      auto max = BoundedInt(item, field + ".max", 1, kMaxRateLimit);
      if (!max.ok()) return max.status();
      rate->max = *max;
    } else if (key == "window_ms") {
      auto window = BoundedInt(item, field + ".window_ms", 1, kMaxRateWindow.count());
      if (!window.ok()) return window.status();
      rate->window = std::chrono::milliseconds(*window);
    } else {
      return InvalidArgument(field + "." + std::string(key), "unknown field");
    }
  }
  if (!rate->enabled()) return InvalidArgument(field + ".max", "is required");
  return Status::Ok();
}

// A concurrency limit or null (no limit) at `field`.
Status ReadConcurrency(const json::value& value, const std::string& field, int32_t* n) {
  *n = 0;
  if (value.is_null()) return Status::Ok();
  auto read = BoundedInt(value, field, 1, kMaxConcurrencyLimit);
  if (!read.ok()) return read.status();
  *n = static_cast<int32_t>(*read);
  return Status::Ok();
}

// {"rate": R, "concurrency": N, "group": {"rate": R, "concurrency": N, "field": "tenant"}}, each
// optional or null; a field left out means no such limit (the body replaces the queue's limits
// as a whole).
Result<QueueLimits> ParseLimits(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "the body is not valid JSON");
  if (!v.is_object()) return InvalidArgument("(body)", "must be a JSON object");
  QueueLimits limits;
  for (const auto& [key, value] : v.get_object()) {
    Status s;
    if (key == "rate") {
      s = ReadRate(value, "rate", &limits.rate);
    } else if (key == "concurrency") {
      s = ReadConcurrency(value, "concurrency", &limits.concurrency);
    } else if (key == "max_length") {
      if (value.is_null()) continue;
      auto n = BoundedInt(value, "max_length", 1, kMaxQueueLength);
      if (!n.ok()) return n.status();
      limits.max_length = *n;
    } else if (key == "priority_aging_ms") {
      if (value.is_null()) continue;
      auto ms = BoundedInt(value, "priority_aging_ms", 1, 86400000);
      if (!ms.ok()) return ms.status();
      limits.priority_aging = std::chrono::milliseconds(*ms);
    } else if (key == "group") {
      if (value.is_null()) continue;
      if (!value.is_object()) return InvalidArgument("group", "must be an object or null");
      for (const auto& [group_key, item] : value.get_object()) {
        if (group_key == "rate") {
          s = ReadRate(item, "group.rate", &limits.group_rate);
        } else if (group_key == "concurrency") {
          s = ReadConcurrency(item, "group.concurrency", &limits.group_concurrency);
        } else if (group_key == "field") {
          if (item.is_null()) continue;
          if (!item.is_string() || item.get_string().empty() ||
              item.get_string().size() > kMaxGroupFieldBytes) {
            return InvalidArgument("group.field", "must be a data field name of 1 to 128 bytes");
          }
          limits.group_field = std::string(item.get_string());
        } else {
          s = InvalidArgument("group." + std::string(group_key), "unknown field");
        }
        if (!s.ok()) return s;
      }
    } else {
      s = InvalidArgument(std::string(key), "unknown field");
    }
    if (!s.ok()) return s;
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
