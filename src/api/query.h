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
// `query` with every `name=` parameter dropped and `name=value` appended (`value` must need no
// escaping): the query of a next page (Link: rel="next").
std::string ReplaceQueryParam(std::string_view query, std::string_view name,
                              std::string_view value);

}  // namespace taskq::api
