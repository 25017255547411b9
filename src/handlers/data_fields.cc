#include "handlers/data_fields.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>

namespace taskq::handlers {
namespace json = boost::json;

Result<json::value> ParseDataObject(std::string_view data_json) {
  boost::system::error_code ec;
  json::value root = json::parse(data_json, ec);
  if (ec) return InvalidArgument("data", "is not valid JSON: " + ec.message());
  if (!root.is_object()) return InvalidArgument("data", "must be a JSON object");
  return root;
}

Status RejectUnknownKeys(const json::object& object, std::initializer_list<std::string_view> known,
                         const std::string& prefix) {
  for (const auto& entry : object) {
    const std::string_view key(entry.key().data(), entry.key().size());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return InvalidArgument(prefix + "." + std::string(key), "unknown field");
    }
  }
  return Status::Ok();
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

Result<std::optional<int64_t>> OptionalInteger(const json::object& object, std::string_view key,
                                               const std::string& field, int64_t min, int64_t max) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<int64_t>();
  std::optional<int64_t> n;
  if (value->is_int64()) {
    n = value->get_int64();
  } else if (value->is_uint64() && value->get_uint64() <= static_cast<uint64_t>(max)) {
    n = static_cast<int64_t>(value->get_uint64());
  } else if (value->is_double()) {
    // 1e3 is an integer too; the range check comes first, as the cast of a larger one is undefined.
    const double d = value->get_double();
    if (std::abs(d) < 9e18 && d == std::trunc(d)) n = static_cast<int64_t>(d);
  }
  if (!n || *n < min || *n > max) {
    return InvalidArgument(
        field, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return n;
}

Result<bool> OptionalBool(const json::object& object, std::string_view key,
                          const std::string& field, bool fallback) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return fallback;
  if (!value->is_bool()) return InvalidArgument(field, "must be true or false");
  return value->get_bool();
}

HandlerResult ResultFromStatus(const Status& status, std::string_view prefix) {
  std::string message = std::string(prefix) + status.ToString();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted:
      return HandlerResult::Fail(std::move(message));
    default:
      return HandlerResult::Retry(std::move(message));
  }
}

}  // namespace taskq::handlers
