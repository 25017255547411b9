// The workers of `taskq up` in a child process of their own, so that a handler that crashes
// takes only that process down, never the API, the dashboard or the scheduler. The child is this
// program with this process's own arguments and TASKQ_UP_WORKER set; it runs the worker part of
// `up` alone (main.cc). A child that ends without being asked is started again.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "taskq/status.h"

namespace taskq::bin {

// Set in the child's environment to the pid of the `taskq up` that started it.
inline constexpr char kUpWorkerVariable[] = "TASKQ_UP_WORKER";

// True in the worker child of a `taskq up` that still runs (its parent). The child then ends
// with its parent (PR_SET_PDEATHSIG) and must not pass the variable on.
bool IsUpWorkerChild();

class WorkerChild {
 public:
  // stop_timeout: how long Stop waits after SIGTERM (the worker's shutdown grace and a margin)
  // before SIGKILL.
  explicit WorkerChild(std::chrono::milliseconds stop_timeout) : stop_timeout_(stop_timeout) {}
  ~WorkerChild();  // Stop()
  WorkerChild(const WorkerChild&) = delete;
  WorkerChild& operator=(const WorkerChild&) = delete;

  // Starts the child and the thread that starts it again when it ends (after 1 s, doubling to
  // 30 s while it keeps ending within a minute).
  Status Start();
  // SIGTERM to the child (it drains as a worker does), SIGKILL after stop_timeout; waits.
  void Stop();
  pid_t pid() const;

 private:
  Status Spawn();  // mu_ held
  void Supervise();

  const std::chrono::milliseconds stop_timeout_;
  mutable std::mutex mu_;
  std::condition_variable stopped_;  // stopping_ set
  pid_t pid_ = 0;                    // guarded by mu_: the child now, 0 between two
  bool stopping_ = false;            // guarded by mu_
  std::thread supervisor_;           // starts every child: PR_SET_PDEATHSIG is tied to it
};

}  // namespace taskq::bin
