// One handler process as its worker sees it (process isolation): started by exec of a program
// (never by fork of the threaded worker), fed one job at a time over a socket pair, with stop
// requests on a second one (handler_frames.h), and stopped hard when an attempt must end and its
// handler does not.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::worker {

struct HandlerProcessOptions {
  std::string program;            // the executable
  std::vector<std::string> argv;  // its arguments, argv[0] first
  int64_t memory_limit_mb = 0;    // the process's RLIMIT_DATA; 0: none
  // How long a new process may take to register its handlers and say it is ready.
  std::chrono::milliseconds start_timeout{10000};
  // How long a handler may go on after its attempt's deadline, or after a stop request (cancel,
  // lease lost, shutdown), before its process is stopped.
  std::chrono::milliseconds kill_grace{1000};
};

class HandlerProcess {
 public:
  // Starts a process and waits until it says it is ready.
  static Result<std::unique_ptr<HandlerProcess>> Start(const HandlerProcessOptions& options);
  // Closes its socket, which ends it; stops it if it does not end at once; reaps it.
  ~HandlerProcess();
  HandlerProcess(const HandlerProcess&) = delete;
  HandlerProcess& operator=(const HandlerProcess&) = delete;

  enum class End {
    kReusable,     // the handler returned; the process waits for its next job
    kTimedOut,     // stopped at the attempt's deadline plus the grace
    kStopped,      // stopped the grace after a stop request
    kCrashed,      // it ended by itself mid-job (a signal, an exit) or broke the protocol
    kOutOfMemory,  // its handler ran out of memory under the cap; the process ends
  };
  struct Outcome {
    HandlerResult result;
    End end = End::kReusable;
  };
  // Runs one attempt of `job` in the process: relays its progress and log lines, passes a stop
  // request on (JobContext::stop_requested, checked every 50 ms), and stops the process when
  // the grace after the deadline or the request has passed: SIGTERM to its process group, then
  // SIGKILL. Returns only once the attempt's handler no longer runs. For one thread at a time.
  Outcome Run(JobContext& job);

  pid_t pid() const { return pid_; }

 private:
  HandlerProcess(pid_t pid, UniqueFd socket, UniqueFd stops, std::chrono::milliseconds kill_grace)
      : pid_(pid), socket_(std::move(socket)), stops_(std::move(stops)), kill_grace_(kill_grace) {}

  static bool SendAll(int fd, const std::string& bytes);
  // Stops the process group (SIGTERM, then SIGKILL) and reaps the process; how it ended.
  std::string Kill();
  // Reaps a process that is ending by itself (its socket closed), stopping it if it lingers.
  std::string Reap();
  // "killed by signal 11 (SEGV)", "exited with status 3"; sets reaped_.
  std::string Reaped(int wait_status);

  const pid_t pid_;
  UniqueFd socket_;  // jobs, progress, logs and results
  UniqueFd stops_;   // stop requests
  const std::chrono::milliseconds kill_grace_;
  bool reaped_ = false;   // once reaped, its pid may be another process's: never signal it
  int64_t sequence_ = 0;  // jobs sent
};

// The text of a wait status: "killed by signal 11 (SEGV)", "exited with status 3".
std::string WaitStatusText(int wait_status);

}  // namespace taskq::worker
