// What a process needs to start a copy of its own program: its command line, and its own
// environment with one variable set (the way the copy learns what it is to be).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "taskq/status.h"

namespace taskq {

struct OwnCommand {
  std::string program;            // /proc/self/exe
  std::vector<std::string> argv;  // as this process was started, argv[0] first
};

// Read from /proc/self; kUnavailable when it cannot be.
Result<OwnCommand> ReadOwnCommand();

// This process's environment, with `name` set to `value` (any value it had is left out).
std::vector<std::string> EnvironmentWith(std::string_view name, std::string_view value);

// NULL-terminated pointers into `strings`, for exec and posix_spawn; valid while `strings` is.
std::vector<char*> CStrings(std::vector<std::string>& strings);

}  // namespace taskq
