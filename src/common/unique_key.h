// Unique jobs' keys (include/taskq/enqueue_options.h, UniqueOptions): the derived key and the mode
// names used in job bodies, enqueue.lua's arguments and the HTTP API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "taskq/enqueue_options.h"
#include "taskq/status.h"

namespace taskq {

// The key of a job that asked for uniqueness without giving one: the lowercase hex SHA-256 of
// `type`, a NUL byte and `data_json` exactly as given (64 characters). The NUL keeps the two
// parts apart: no type ends in NUL and no JSON text starts with one.
// Fails (kInternal) only when OpenSSL cannot compute a digest.
Result<std::string> DeriveUniqueKey(std::string_view type, std::string_view data_json);

// "until_completed", "ttl", "debounce".
std::string_view UniqueModeName(UniqueOptions::Mode mode);
std::optional<UniqueOptions::Mode> ParseUniqueMode(std::string_view name);

}  // namespace taskq
