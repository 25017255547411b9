// Query strings: "state=dead&limit=50".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq::api {

// The decoded value of the first `name=` parameter ('+' is a space), or nullopt.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);
// An integer parameter in [min, max]; `fallback` when absent. The error names the parameter.
Result<int64_t> QueryInt(std::string_view query, std::string_view name, int64_t fallback,
                         int64_t min, int64_t max);

}  // namespace taskq::api
