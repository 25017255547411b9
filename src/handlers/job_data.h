// Helpers for reading a job's data (a JSON object) in the built-in handlers, so that every job
// type words its errors the same way.
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

// kInvalidArgument naming `prefix`.<key> for the first key of `object` not in `known`: a typo in
// an optional field must not be silently ignored.
Status RejectUnknownKeys(const boost::json::object& object,
                         std::initializer_list<std::string_view> known, const std::string& prefix);

// The job's fate for a failed step: the producer's mistake (invalid or missing input, a size
// limit) fails at once; anything else (a server or the disk not ready) is retried. The message is
// `prefix` followed by the status.
HandlerResult ResultFromStatus(const Status& status, std::string_view prefix = {});

}  // namespace taskq::handlers
