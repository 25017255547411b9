// Strict readers of JSON fields, the one set shared by the job request parser (src/api), the
// schedule definition parser (src/scheduler) and the built-in handlers' data parsers. Every error
// is kInvalidArgument naming the field in the client's terms ("priority", "data.outputs[0].width",
// "options.backoff.delay_ms").
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "taskq/enqueue_options.h"
#include "taskq/status.h"

namespace taskq {

inline constexpr int64_t kMaxFieldMs = int64_t{30} * 24 * 3600 * 1000 * 12 * 10;  // ten years

// JSON numbers like 5.0 count as integers, 5.5 does not.
Status ReadInteger(const boost::json::value& v, const std::string& field, int64_t min, int64_t max,
                   int64_t* out);
Status ReadString(const boost::json::value& v, const std::string& field, std::string* out);

// The name of a member in errors: its key, or "(empty name)" for the key "", so that an error
// always names a field (an empty field means a malformed body).
inline std::string FieldNameOf(std::string_view key) {
  return key.empty() ? std::string("(empty name)") : std::string(key);
}

// A JSON string's text, without a copy.
inline std::string_view TextOf(const boost::json::string& s) { return {s.data(), s.size()}; }

// `text` parsed as a JSON object, or an error naming `field` ("data").
Result<boost::json::value> ParseJsonObject(std::string_view text, const std::string& field);

// Refuses keys not in `known`, naming every one: a typo would otherwise be ignored silently.
// `prefix` is the field of `object`, e.g. "data.source".
Status RejectUnknownKeys(const boost::json::object& object,
                         std::initializer_list<std::string_view> known, const std::string& prefix);

// The fields of an object by key; absent and null are the same. `field` names it in errors.
// A string field: absent gives nullopt; anything but a string is an error.
Result<std::optional<std::string>> OptionalString(const boost::json::object& object,
                                                  std::string_view key, const std::string& field,
                                                  size_t max_bytes);
// A string field that must be there ("is required").
Result<std::string> RequiredString(const boost::json::object& object, std::string_view key,
                                   const std::string& field, size_t max_bytes);
// An integer field in [min, max] (ReadInteger's rules): absent gives nullopt.
Result<std::optional<int64_t>> OptionalInteger(const boost::json::object& object,
                                               std::string_view key, const std::string& field,
                                               int64_t min, int64_t max);
// A boolean field, `fallback` when absent.
Result<bool> OptionalBool(const boost::json::object& object, std::string_view key,
                          const std::string& field, bool fallback);

// Reads `key` if it is one of the job options a producer may set on a job or a schedule's job
// template: priority, group, max_attempts, backoff, timeout_ms, retention. `field` is how errors
// name it. Returns false (and leaves *status alone) when `key` is none of them.
bool ReadJobOption(std::string_view key, const boost::json::value& v, const std::string& field,
                   EnqueueOptions* out, Status* status);

}  // namespace taskq
