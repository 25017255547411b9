#include "api/limits_request.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "common/field_errors.h"

namespace taskq::api {
namespace {

namespace json = boost::json;

// An integer field in [low, high]; kInvalidArgument naming `field` otherwise.
Result<int64_t> BoundedInt(const json::value& v, const std::string& field, int64_t low,
                           int64_t high) {
  if (!v.is_int64() || v.get_int64() < low || v.get_int64() > high) {
    return InvalidArgument(
        field, "must be an integer from " + std::to_string(low) + " to " + std::to_string(high));
  }
  return v.get_int64();
}

// {"max": N, "window_ms": W} or null (no limit) at `field`; names every invalid field of it.
Status ReadRate(const json::value& value, const std::string& field, RateLimit* rate) {
  *rate = RateLimit{};
  if (value.is_null()) return Status::Ok();
  if (!value.is_object()) return InvalidArgument(field, "must be an object or null");
  FieldErrors errors;
  for (const auto& [key, item] : value.get_object()) {
    if (key == "max") {
      auto max = BoundedInt(item, field + ".max", 1, kMaxRateLimit);
      if (errors.Check(max.status())) rate->max = *max;
    } else if (key == "window_ms") {
      auto window = BoundedInt(item, field + ".window_ms", 1, kMaxRateWindow.count());
      if (errors.Check(window.status())) rate->window = std::chrono::milliseconds(*window);
    } else {
      errors.Add(InvalidArgument(field + "." + std::string(key), "unknown field"));
    }
  }
  // An invalid max is named above; only a missing one is reported here.
  if (!rate->enabled() && !value.get_object().contains("max")) {
    errors.Add(InvalidArgument(field + ".max", "is required"));
  }
  return std::move(errors).ToStatus();
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

// {"rate": R, "concurrency": N, "field": "tenant"} or null at "group"; names every invalid field.
Status ReadGroup(const json::value& value, QueueLimits* limits) {
  if (value.is_null()) return Status::Ok();
  if (!value.is_object()) return InvalidArgument("group", "must be an object or null");
  FieldErrors errors;
  for (const auto& [key, item] : value.get_object()) {
    if (key == "rate") {
      errors.Check(ReadRate(item, "group.rate", &limits->group_rate));
    } else if (key == "concurrency") {
      errors.Check(ReadConcurrency(item, "group.concurrency", &limits->group_concurrency));
    } else if (key == "field") {
      if (item.is_null()) continue;
      if (!item.is_string() || item.get_string().empty() ||
          item.get_string().size() > kMaxGroupFieldBytes) {
        errors.Add(InvalidArgument("group.field", "must be a data field name of 1 to 128 bytes"));
      } else {
        limits->group_field = std::string(item.get_string());
      }
    } else {
      errors.Add(InvalidArgument("group." + std::string(key), "unknown field"));
    }
  }
  return std::move(errors).ToStatus();
}

}  // namespace

Result<QueueLimits> ParseLimitsRequest(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "the body is not valid JSON");
  if (!v.is_object()) return InvalidArgument("(body)", "must be a JSON object");
  QueueLimits limits;
  // Every invalid field is named, not only the first (docs/http-api.md, "Errors").
  FieldErrors errors;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "rate") {
      errors.Check(ReadRate(value, "rate", &limits.rate));
    } else if (key == "concurrency") {
      errors.Check(ReadConcurrency(value, "concurrency", &limits.concurrency));
    } else if (key == "max_length") {
      if (value.is_null()) continue;
      auto n = BoundedInt(value, "max_length", 1, kMaxQueueLength);
      if (errors.Check(n.status())) limits.max_length = *n;
    } else if (key == "priority_aging_ms") {
      if (value.is_null()) continue;
      auto ms = BoundedInt(value, "priority_aging_ms", 1, 86400000);
      if (errors.Check(ms.status())) limits.priority_aging = std::chrono::milliseconds(*ms);
    } else if (key == "group") {
      errors.Check(ReadGroup(value, &limits));
    } else {
      errors.Add(InvalidArgument(std::string(key), "unknown field"));
    }
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return limits;
}

}  // namespace taskq::api
