// One handler process as its worker sees it (process isolation): started by exec of a program
// (never by fork of the threaded worker), fed one job at a time over a socket pair, with stop
// requests on a second one (handler_frames.h), and stopped hard when an attempt must end and its
// handler does not.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "taskq/handler.h"
#include "taskq/status.h"
#include "worker/handler_cgroup.h"
#include "worker/handler_frames.h"

namespace taskq::worker {

struct HandlerProcessOptions {
  std::string program;            // the executable
  std::vector<std::string> argv;  // its arguments, argv[0] first
  int64_t memory_limit_mb = 0;    // the memory cap; 0: none
  // Where the cap is the memory.max of a cgroup of the process's own (handler_cgroup.h); null:
  // the cap is the process's RLIMIT_DATA.
  std::shared_ptr<HandlerCgroups> cgroups;
  // How long a new process may take to register its handlers and say it is ready.
  std::chrono::milliseconds start_timeout{10000};
  // How long a handler may go on after its attempt's deadline, or after a stop request (cancel,
  // lease lost, shutdown), before its process is stopped.
  std::chrono::milliseconds kill_grace{1000};
};

// Not thread-safe: one thread (the pool's) drives a process through its calls.
class HandlerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts a process; it is ready once ReadReady says so.
  static Result<std::unique_ptr<HandlerProcess>> Spawn(const HandlerProcessOptions& options);
  // Closes its sockets, which ends it; stops it if it does not end at once; reaps it.
  ~HandlerProcess();
  HandlerProcess(const HandlerProcess&) = delete;
  HandlerProcess& operator=(const HandlerProcess&) = delete;

  pid_t pid() const { return pid_; }
  int socket_fd() const { return socket_.get(); }  // readable: call ReadReady or OnReadable

  // While it starts: reads what it sent. True once it said it is ready, false until then, an
  // error when it ended, broke the protocol, or did not say so by `start_deadline()` (then it
  // has been stopped).
  Result<bool> ReadReady();
  Clock::time_point start_deadline() const { return start_deadline_; }

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
  // One attempt of `job` in a ready process: Begin sends the job; then OnReadable whenever the
  // socket is readable (it relays progress and log lines) and OnTimer at NextTimer (it passes a
  // stop request on, JobContext::stop_requested, and once the grace after the deadline or the
  // request has passed stops the process: SIGTERM to its process group, then SIGKILL). Each
  // returns the attempt's outcome when it ended, and only once its handler no longer runs.
  std::optional<Outcome> Begin(JobContext& job);
  std::optional<Outcome> OnReadable(JobContext& job);
  std::optional<Outcome> OnTimer(JobContext& job);
  Clock::time_point NextTimer() const;

 private:
  HandlerProcess(pid_t pid, UniqueFd socket, UniqueFd stops, std::unique_ptr<HandlerCgroup> cgroup,
                 const HandlerProcessOptions& options);

  static bool SendAll(int fd, const std::string& bytes);
  // Reads what the socket has; false at its end.
  bool Receive();
  // Of a process that ended (reaped): a crash, or the kernel's OOM killer at its cgroup's cap.
  Outcome Crashed(const std::string& why);
  // Stops the process group (SIGTERM, then SIGKILL) and reaps the process; how it ended.
  std::string Kill();
  // Reaps a process that is ending by itself (its socket closed), stopping it if it lingers.
  std::string Reap();
  // "killed by signal 11 (SEGV)", "exited with status 3"; sets reaped_.
  std::string Reaped(int wait_status);

  const pid_t pid_;
  UniqueFd socket_;                              // jobs, progress, logs and results
  UniqueFd stops_;                               // stop requests
  const std::unique_ptr<HandlerCgroup> cgroup_;  // null: none; removed after the reaping
  const int64_t memory_limit_mb_;
  const std::string program_;
  const std::chrono::milliseconds kill_grace_;
  const Clock::time_point start_deadline_;
  FrameReader reader_{kMaxProcessFrameBytes};
  bool reaped_ = false;  // once reaped, its pid may be another process's: never signal it
  // The running attempt.
  int64_t sequence_ = 0;  // jobs sent
  Clock::time_point deadline_kill_{}, kill_at_{};
  Clock::time_point next_stop_check_{};  // when OnTimer next looks at the stop request
  bool stop_sent_ = false;
};

// The text of a wait status: "killed by signal 11 (SEGV)", "exited with status 3".
std::string WaitStatusText(int wait_status);

}  // namespace taskq::worker
