#include "api/job_request.h"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/callback_url.h"
#include "common/field_errors.h"
#include "common/job_codec.h"
#include "common/json_fields.h"
#include "common/json_span.h"
#include "common/rfc3339.h"
#include "common/unique_key.h"

namespace taskq::api {
namespace {

namespace json = boost::json;

Status Malformed(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// "unique": true (key derived from type and data, mode until_completed), false (not unique), or
// {"key", "mode", "ttl_ms"}, each optional except ttl_ms with mode ttl. The rules on the key and
// ttl_ms are ValidateOptions' (job_codec), which names the same fields.
// An RFC 3339 date-time string, as Unix ms.
Status ReadTime(const json::value& v, const std::string& field, std::optional<int64_t>* out) {
  std::string text;
  TASKQ_RETURN_IF_ERROR(ReadString(v, field, &text));
  *out = ParseRfc3339Ms(text);
  if (!*out) {
    return InvalidArgument(field, "must be an RFC 3339 date-time, e.g. 2026-01-31T09:00:00Z");
  }
  return Status::Ok();
}

Status ReadUnique(const json::value& v, std::optional<UniqueOptions>* out) {
  if (v.is_bool()) {
    if (v.get_bool()) {
      out->emplace();
    } else {
      out->reset();
    }
    return Status::Ok();
  }
  if (!v.is_object()) {
    return InvalidArgument("unique", "must be true or an object with key, mode and ttl_ms");
  }
  UniqueOptions unique;
  for (const auto& [key, value] : v.get_object()) {
    const std::string f = "unique." + std::string(key);
    if (key == "key") {
      TASKQ_RETURN_IF_ERROR(ReadString(value, f, &unique.key));
      if (unique.key.empty()) {
        return InvalidArgument(f,
                               "must be 1 to 256 bytes long; leave it out to derive the key "
                               "from type and data");
      }
    } else if (key == "mode") {
      std::string mode;
      TASKQ_RETURN_IF_ERROR(ReadString(value, f, &mode));
      auto parsed = ParseUniqueMode(mode);
      if (!parsed) return InvalidArgument(f, "must be one of until_completed, ttl, debounce");
      unique.mode = *parsed;
    } else if (key == "ttl_ms") {
      int64_t n;
      TASKQ_RETURN_IF_ERROR(ReadInteger(value, f, 1, kMaxUniqueTtl.count(), &n));
      unique.ttl = std::chrono::milliseconds(n);
    } else {
      return InvalidArgument(f, "unknown field; expected key, mode or ttl_ms");
    }
  }
  *out = std::move(unique);
  return Status::Ok();
}

}  // namespace

// `prefix` is "" for a single job and "jobs[i]." in a bulk request.
Result<EnqueueRequest> ReadJob(const json::value& v, std::string_view text,
                               const std::string& prefix, std::string_view idempotency_key,
                               const JobTypeCheck& check_type,
                               std::span<const std::string_view> callers_keys) {
  // Every invalid field is reported, not only the first; any other error ends the check.
  FieldErrors errors;
  auto check = [&](const Status& s) { return s.ok() || errors.Add(WithFieldPrefix(s, prefix)); };
  if (!v.is_object()) {
    return InvalidArgument(prefix.empty() ? "(body)" : prefix.substr(0, prefix.size() - 1),
                           "must be a JSON object");
  }
  EnqueueRequest request;
  bool has_type = false, has_data = false, data_invalid = false;
  for (const auto& [key, value] : v.get_object()) {
    const std::string field = FieldNameOf(key);
    int64_t n = 0;
    Status s;
    if (key == "type") {
      s = ReadString(value, field, &request.type);
      has_type = true;
    } else if (key == "data") {
      if (!value.is_object()) {
        s = InvalidArgument(field, "must be a JSON object");
        data_invalid = true;
      } else {
        // The producer's text, whitespace between tokens dropped: parsing and serialising
        // again would change numbers (1.5 to 1.5E0, digits past a double's precision).
        const std::optional<std::string_view> data_text = JsonMemberText(text, "data");
        request.data_json = data_text ? JsonWithoutWhitespace(*data_text) : json::serialize(value);
        has_data = true;
      }
    } else if (key == "queue") {
      s = ReadString(value, field, &request.options.queue);
    } else if (key == "job_id") {
      s = ReadString(value, field, &request.options.job_id);
    } else if (key == "delay_ms") {
      s = ReadInteger(value, field, 0, kMaxFieldMs, &n);
      request.options.delay = std::chrono::milliseconds(n);
    } else if (key == "run_at") {
      s = ReadTime(value, field, &request.options.run_at_ms);
    } else if (ReadJobOption(key, value, field, &request.options, &s)) {
      // priority, group, max_attempts, backoff, timeout_ms, retention
    } else if (key == "unique") {
      s = ReadUnique(value, &request.options.unique);
    } else if (key == "expires_at") {
      s = ReadTime(value, field, &request.options.expires_at_ms);
    } else if (key == "lifo") {
      if (!value.is_bool()) {
        s = InvalidArgument(field, "must be true or false");
      } else {
        request.options.lifo = value.get_bool();
      }
    } else if (key == "callback_url") {
      s = ReadString(value, field, &request.options.callback_url);
      if (s.ok()) s = CheckCallbackUrl(field, request.options.callback_url);
    } else if (std::find(callers_keys.begin(), callers_keys.end(), key) == callers_keys.end()) {
      s = InvalidArgument(field, "unknown field");
    }
    if (!check(s)) return WithFieldPrefix(s, prefix);
  }
  if (!has_type) check(InvalidArgument("type", "is required"));
  if (!has_data) request.data_json = "{}";
  bool job_id_checked = false;
  if (!idempotency_key.empty()) {
    if (Status s = ValidateJobId(idempotency_key); !s.ok()) {
      errors.Add(InvalidArgument("Idempotency-Key", s.message()));
      job_id_checked = true;
    } else if (request.options.job_id.empty()) {
      request.options.job_id = std::string(idempotency_key);
    } else if (request.options.job_id != idempotency_key) {
      errors.Add(InvalidArgument("job_id", "differs from the Idempotency-Key header"));
      job_id_checked = true;
    }
  }
  const Status type_name = has_type ? ValidateName("type", request.type) : Status::Ok();
  check(type_name);
  if (!request.options.queue.empty()) check(ValidateName("queue", request.options.queue));
  if (!request.options.job_id.empty() && !job_id_checked) {
    if (Status s = ValidateJobId(request.options.job_id); !s.ok()) {
      check(InvalidArgument("job_id", s.message()));
    }
  }
  if (Status s = ValidateOptions(request.options); !check(s)) return WithFieldPrefix(s, prefix);
  // The type's own checks of its data need a well-formed type, and data that is an object (its
  // checks of "{}" would name fields the producer never got to give).
  if (check_type && has_type && type_name.ok() && !data_invalid) {
    if (Status s = check_type(request); !check(s)) return WithFieldPrefix(s, prefix);
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return request;
}

Result<json::value> ParseBody(std::string_view body, const JobRequestLimits& limits,
                              json::storage_ptr storage) {
  json::parse_options options;
  options.max_depth = static_cast<std::size_t>(limits.max_json_depth);
  boost::system::error_code ec;
  json::value value = json::parse(body, ec, std::move(storage), options);
  if (ec) return Malformed("the body is not valid JSON: " + ec.message());
  return value;
}

Result<EnqueueRequest> ParseJobRequest(std::string_view body, std::string_view idempotency_key,
                                       const JobRequestLimits& limits,
                                       const JobTypeCheck& check_type) {
  unsigned char buffer[4096];
  json::monotonic_resource resource(buffer, sizeof(buffer));
  auto value = ParseBody(body, limits, &resource);
  if (!value.ok()) return value.status();
  return ReadJob(*value, body, "", idempotency_key, check_type, {});
}

Result<std::vector<EnqueueRequest>> ReadJobs(const json::array& array,
                                             std::optional<std::string_view> array_text,
                                             std::string_view name,
                                             const JobTypeCheck& check_type) {
  const std::vector<std::string_view> job_texts =
      array_text ? JsonElementTexts(*array_text) : std::vector<std::string_view>();
  std::vector<EnqueueRequest> requests;
  requests.reserve(array.size());
  FieldErrors errors;  // of every job, so that one answer names them all
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string_view text = i < job_texts.size() ? job_texts[i] : std::string_view();
    auto request = ReadJob(array[i], text, std::string(name) + "[" + std::to_string(i) + "].", {},
                           check_type, {});
    if (!request.ok()) {
      if (!errors.Add(request.status())) return request.status();
      continue;
    }
    if (errors.empty()) requests.push_back(std::move(*request));
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return requests;
}

Result<std::vector<EnqueueRequest>> ParseBulkRequest(std::string_view body,
                                                     const JobRequestLimits& limits,
                                                     const JobTypeCheck& check_type) {
  auto value = ParseBody(body, limits);
  if (!value.ok()) return value.status();
  const json::object* object = value->if_object();
  const json::value* jobs = object ? object->if_contains("jobs") : nullptr;
  if (!jobs || !jobs->is_array()) {
    return InvalidArgument("jobs", "is required: an array of job objects");
  }
  for (const auto& [key, ignored] : *object) {
    if (key != "jobs") return InvalidArgument(FieldNameOf(key), "unknown field");
  }
  const json::array& array = jobs->get_array();
  if (array.empty()) return InvalidArgument("jobs", "must hold at least one job");
  if (array.size() > limits.max_bulk) {
    return Status(StatusCode::kResourceExhausted,
                  "holds " + std::to_string(array.size()) + " jobs; the limit is " +
                      std::to_string(limits.max_bulk),
                  "jobs");
  }
  return ReadJobs(array, JsonMemberText(body, "jobs"), "jobs", check_type);
}

}  // namespace taskq::api
