// Reading the JSON body of PUT /api/queues/{queue}/shards: {"shards": N}, N from 1 to 32.
// Unknown fields are refused, so a typo is not silently ignored.
#pragma once

#include <cstdint>
#include <string_view>

#include "taskq/status.h"

namespace taskq::api {

// Errors: kInvalidArgument with an empty field() when the body is not a JSON object (HTTP 400),
// else kInvalidArgument naming the field (422).
Result<int32_t> ParseShardsRequest(std::string_view body);

}  // namespace taskq::api
