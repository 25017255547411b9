// Rate limits as people write them: "100/s", "100/1s", "5/500ms", "1000/1m", "10/1h".
#pragma once

#include <string>
#include <string_view>

#include "taskq/queue_limits.h"
#include "taskq/status.h"

namespace taskq {

// "N/W": N (1 to kMaxRateLimit) per window W, a whole number with unit ms, s, m or h (the number
// may be left out: "/s" = "/1s"), at most kMaxRateWindow. Errors are kInvalidArgument naming
// `field`.
Result<RateLimit> ParseRate(std::string_view text, std::string_view field);
// The inverse, in the largest unit that divides the window: {100, 1000 ms} -> "100/1s".
std::string FormatRate(const RateLimit& rate);

}  // namespace taskq
