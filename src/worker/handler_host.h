// A handler process's side of process isolation: it runs the jobs its worker sends over the
// socket it inherited, one at a time, with the handlers its program registered, and never talks
// to Redis. The worker's side is handler_process.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "worker/handler_registry.h"

namespace taskq::worker {

// Set by a worker in the environment of each handler process it starts:
// "<jobs socket fd>:<worker pid>:<memory cap in MiB, 0 for none>"; the stop socket is the next
// fd (handler_frames.h).
inline constexpr char kHandlerProcessVariable[] = "TASKQ_HANDLER_PROCESS";

struct HandlerProcessSettings {
  int socket_fd = -1;  // jobs; stop requests come on socket_fd + 1
  int64_t worker_pid = 0;
  int64_t memory_limit_mb = 0;
};

// The settings of kHandlerProcessVariable's value; nullopt for anything else.
std::optional<HandlerProcessSettings> ParseHandlerProcessVariable(std::string_view value);

// The settings when this process was started as a handler process: the variable is set and
// well formed, its worker is this process's parent, and both its sockets are open.
std::optional<HandlerProcessSettings> HandlerProcessSettingsOfThisProcess();

// Serves the worker until it closes the sockets (or dies): applies the memory cap (RLIMIT_DATA,
// not under AddressSanitizer, whose shadow memory it would refuse), says kReady, then reads each
// job and runs its handler on this thread while another reads stop requests. Returns the
// process's exit code; ends the process itself when the worker goes away mid-job.
int ServeHandlers(const HandlerProcessSettings& settings, const HandlerRegistry& handlers);

}  // namespace taskq::worker
