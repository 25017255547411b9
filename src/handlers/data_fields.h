// Reading the fields of a job's data (a JSON object) with errors that name the field, and mapping
// a failure to a handler outcome. Shared by the export and cleanup handlers.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

// `data_json` parsed as a JSON object, or kInvalidArgument naming "data".
Result<boost::json::value> ParseDataObject(std::string_view data_json);

// Refuses keys not in `known`: a typo would otherwise be ignored silently. `prefix` is the field
// of `object`, e.g. "data.source".
Status RejectUnknownKeys(const boost::json::object& object,
                         std::initializer_list<std::string_view> known, const std::string& prefix);

// A string field: absent or null gives nullopt; anything but a string is an error.
Result<std::optional<std::string>> OptionalString(const boost::json::object& object,
                                                  std::string_view key, const std::string& field,
                                                  size_t max_bytes);
// An integer field in [min, max]: absent or null gives nullopt.
Result<std::optional<int64_t>> OptionalInteger(const boost::json::object& object,
                                               std::string_view key, const std::string& field,
                                               int64_t min, int64_t max);
// A boolean field, `fallback` when absent or null.
Result<bool> OptionalBool(const boost::json::object& object, std::string_view key,
                          const std::string& field, bool fallback);

// The caller's mistakes and states that another attempt will not change fail the job; anything
// else (I/O, Redis unavailable) is worth a retry. The message is `prefix` followed by the status.
HandlerResult ResultFromStatus(const Status& status, std::string_view prefix = {});

}  // namespace taskq::handlers
