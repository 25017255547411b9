// Reading a job's data (a JSON object) with errors that name the field, and mapping a failure to a
// handler outcome. The field readers are common/json_fields.h, shared with the API.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "common/json_fields.h"
#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

// `data_json` parsed as a JSON object, or kInvalidArgument naming "data".
Result<boost::json::value> ParseDataObject(std::string_view data_json);

// The caller's mistakes and states that another attempt will not change fail the job; anything
// else (I/O, Redis unavailable) is worth a retry. The message is `prefix` followed by the status.
HandlerResult ResultFromStatus(const Status& status, std::string_view prefix = {});

}  // namespace taskq::handlers
