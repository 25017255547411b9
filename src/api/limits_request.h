// Reading the JSON body of PUT /api/queues/{queue}/limits into a queue's limits. Every invalid
// field is named ("rate.max", "group.concurrency") with the rule it breaks; unknown fields are
// refused, so a typo is not silently ignored.
#pragma once

#include <string_view>

#include "taskq/queue_limits.h"
#include "taskq/status.h"

namespace taskq::api {

// {"rate": R, "concurrency": N, "group": {"rate": R, "concurrency": N, "field": "tenant"},
// "priority_aging_ms": N, "max_length": N}, each optional or null; a field left out means no such
// limit (the body replaces the queue's limits as a whole). R is {"max": N, "window_ms": W}.
// Errors: kInvalidArgument with an empty field() when the body is not JSON (HTTP 400), else
// kInvalidArgument naming the first invalid field and carrying the others (422).
Result<QueueLimits> ParseLimitsRequest(std::string_view body);

}  // namespace taskq::api
