// Strict readers of JSON request fields, shared by the job request parser (src/api) and the
// schedule definition parser (src/scheduler). Every error is kInvalidArgument naming the field in
// the client's terms ("priority", "options.backoff.delay_ms").
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
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

// Reads `key` if it is one of the job options a producer may set on a job or a schedule's job
// template: priority, group, max_attempts, backoff, timeout_ms, retention. `field` is how errors name
// it. Returns false (and leaves *status alone) when `key` is none of them.
bool ReadJobOption(std::string_view key, const boost::json::value& v, const std::string& field,
                   EnqueueOptions* out, Status* status);

}  // namespace taskq
