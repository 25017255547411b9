// RFC 3339 timestamps <-> Unix milliseconds. "2026-11-28T10:00:00Z",
// "2026-11-28T11:00:00.250+01:00".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskq {

// nullopt unless `text` is a full RFC 3339 date-time (with 'T' or ' ', seconds, optional
// fraction, and 'Z' or a numeric offset) of an instant in the years 0000 to 9999 in UTC. A
// fraction finer than milliseconds rounds up: the result is used as a "no earlier than" due time.
std::optional<int64_t> ParseRfc3339Ms(std::string_view text);
// UTC with milliseconds: "2026-11-28T10:00:00.000Z".
std::string FormatRfc3339Ms(int64_t unix_ms);

}  // namespace taskq
