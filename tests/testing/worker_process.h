// A taskq_test_worker child process (tests/system/test_worker_main.cc), for tests that run real
// worker processes and kill them like deployed ones. Needs TASKQ_TEST_WORKER defined to its path.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace taskq::testing {

class WorkerProcess {
 public:
  // idle_poll_ms 0: the worker's default.
  WorkerProcess(const std::string& url, const std::string& queues, int lease_ms, int grace_ms,
                int idle_poll_ms = 0) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const std::string lease = std::to_string(lease_ms), grace = std::to_string(grace_ms);
      const std::string idle_poll = std::to_string(idle_poll_ms);
      ::execl(TASKQ_TEST_WORKER, TASKQ_TEST_WORKER, url.c_str(), queues.c_str(), lease.c_str(),
              grace.c_str(), idle_poll_ms > 0 ? idle_poll.c_str() : nullptr, nullptr);
      ::_exit(127);
    }
  }
  ~WorkerProcess() { Kill(SIGKILL); }
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  pid_t pid() const { return pid_; }
  // Sends the signal and waits for the process to end.
  void Kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace taskq::testing
