#include "common/json_fields.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>

#include "common/field_errors.h"

namespace taskq {
namespace {

namespace json = boost::json;

Status ReadRetention(const json::value& v, const std::string& field, Retention* out) {
  if (!v.is_object()) return InvalidArgument(field, "must be an object with count and age_ms");
  for (const auto& [key, value] : v.get_object()) {
    const std::string f = field + "." + std::string(key);
    int64_t n;
    if (key == "count") {
      TASKQ_RETURN_IF_ERROR(ReadInteger(value, f, 0, int64_t{1} << 40, &n));
      out->count = n;
    } else if (key == "age_ms") {
      TASKQ_RETURN_IF_ERROR(ReadInteger(value, f, 0, kMaxFieldMs, &n));
      out->age = std::chrono::milliseconds(n);
    } else {
      return InvalidArgument(f, "unknown field; expected count or age_ms");
    }
  }
  return Status::Ok();
}

Status ReadBackoff(const json::value& v, const std::string& field, BackoffPolicy* out) {
  if (!v.is_object()) return InvalidArgument(field, "must be an object");
  for (const auto& [key, value] : v.get_object()) {
    const std::string f = field + "." + std::string(key);
    int64_t n;
    if (key == "type") {
      std::string type;
      TASKQ_RETURN_IF_ERROR(ReadString(value, f, &type));
      if (type == "exponential")
        out->type = BackoffType::kExponential;
      else if (type == "fixed")
        out->type = BackoffType::kFixed;
      else if (type == "none")
        out->type = BackoffType::kNone;
      else
        return InvalidArgument(f, "must be one of exponential, fixed, none");
    } else if (key == "delay_ms") {
      TASKQ_RETURN_IF_ERROR(ReadInteger(value, f, 0, kMaxFieldMs, &n));
      out->delay = std::chrono::milliseconds(n);
    } else if (key == "max_delay_ms") {
      TASKQ_RETURN_IF_ERROR(ReadInteger(value, f, 0, kMaxFieldMs, &n));
      out->max_delay = std::chrono::milliseconds(n);
    } else if (key == "jitter") {
      if (!value.is_number()) return InvalidArgument(f, "must be a number in [0, 1]");
      const double jitter = value.to_number<double>();
      if (!(jitter >= 0 && jitter <= 1)) return InvalidArgument(f, "must be a number in [0, 1]");
      out->jitter = jitter;
    } else {
      return InvalidArgument(f, "unknown field; expected type, delay_ms, max_delay_ms or jitter");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ReadInteger(const json::value& v, const std::string& field, int64_t min, int64_t max,
                   int64_t* out) {
  int64_t value;
  if (v.is_int64()) {
    value = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(max)) {
      return InvalidArgument(field, "must be an integer in [" + std::to_string(min) + ", " +
                                        std::to_string(max) + "]");
    }
    value = static_cast<int64_t>(v.get_uint64());
  } else if (v.is_double() && std::isfinite(v.get_double()) &&
             v.get_double() == std::floor(v.get_double()) && std::fabs(v.get_double()) < 9e15) {
    value = static_cast<int64_t>(v.get_double());
  } else {
    return InvalidArgument(field, "must be an integer");
  }
  if (value < min || value > max) {
    return InvalidArgument(
        field, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = value;
  return Status::Ok();
}

Status ReadString(const json::value& v, const std::string& field, std::string* out) {
  if (!v.is_string()) return InvalidArgument(field, "must be a string");
  *out = std::string(v.get_string());
  return Status::Ok();
}

Result<json::value> ParseJsonObject(std::string_view text, const std::string& field) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return InvalidArgument(field, "is not valid JSON: " + ec.message());
  if (!root.is_object()) return InvalidArgument(field, "must be a JSON object");
  return root;
}

Status RejectUnknownKeys(const json::object& object, std::initializer_list<std::string_view> known,
                         const std::string& prefix) {
  FieldErrors errors;
  for (const auto& entry : object) {
    const std::string_view key(entry.key().data(), entry.key().size());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      errors.Add(InvalidArgument(prefix + "." + std::string(key), "unknown field"));
    }
  }
  return std::move(errors).ToStatus();
}

Result<std::optional<std::string>> OptionalString(const json::object& object, std::string_view key,
                                                  const std::string& field, size_t max_bytes) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<std::string>();
  const json::string* s = value->if_string();
  if (s == nullptr) return InvalidArgument(field, "must be a string");
  if (s->size() > max_bytes) {
    return InvalidArgument(field, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  return std::optional<std::string>(std::string(s->data(), s->size()));
}

Result<std::string> RequiredString(const json::object& object, std::string_view key,
                                   const std::string& field, size_t max_bytes) {
  Result<std::optional<std::string>> value = OptionalString(object, key, field, max_bytes);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return InvalidArgument(field, "is required");
  return std::move(**value);
}

Result<std::optional<int64_t>> OptionalInteger(const json::object& object, std::string_view key,
                                               const std::string& field, int64_t min, int64_t max) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<int64_t>();
  int64_t n = 0;
  TASKQ_RETURN_IF_ERROR(ReadInteger(*value, field, min, max, &n));
  return std::optional<int64_t>(n);
}

Result<bool> OptionalBool(const json::object& object, std::string_view key,
                          const std::string& field, bool fallback) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return fallback;
  if (!value->is_bool()) return InvalidArgument(field, "must be true or false");
  return value->get_bool();
}

bool ReadJobOption(std::string_view key, const json::value& value, const std::string& field,
                   EnqueueOptions* out, Status* status) {
  int64_t n;
  if (key == "priority") {
    *status = ReadInteger(value, field, kMinPriority, kMaxPriority, &n);
    if (status->ok()) out->priority = static_cast<int32_t>(n);
  } else if (key == "group") {
    *status = ReadString(value, field, &out->group);
    if (status->ok() && out->group.empty()) *status = InvalidArgument(field, "must not be empty");
  } else if (key == "max_attempts") {
    *status = ReadInteger(value, field, 1, kMaxAttemptsLimit, &n);
    if (status->ok()) out->max_attempts = static_cast<int32_t>(n);
  } else if (key == "backoff") {
    *status = ReadBackoff(value, field, &out->backoff);
  } else if (key == "timeout_ms") {
    *status = ReadInteger(value, field, 0, kMaxFieldMs, &n);
    if (status->ok()) out->timeout = std::chrono::milliseconds(n);
  } else if (key == "retention") {
    if (!value.is_object()) {
      *status = InvalidArgument(field, "must be an object with completed and/or dead");
      return true;
    }
    for (const auto& [which, r] : value.get_object()) {
      if (which == "completed") {
        *status = ReadRetention(r, field + ".completed", &out->keep_completed);
      } else if (which == "dead") {
        *status = ReadRetention(r, field + ".dead", &out->keep_dead);
      } else {
        *status = InvalidArgument(field + "." + std::string(which),
                                  "unknown field; expected completed or dead");
      }
      if (!status->ok()) break;
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace taskq
