// A taskq_test_worker child process (tests/system/test_worker_main.cc), for tests that run real
// worker processes and kill them like deployed ones. Needs TASKQ_TEST_WORKER defined to its path.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "testing/child_process.h"

namespace taskq::testing {

class WorkerProcess {
 public:
  // idle_poll_ms 0: the worker's default.
  WorkerProcess(const std::string& url, const std::string& queues, int lease_ms, int grace_ms,
                int idle_poll_ms = 0) {
    std::vector<std::string> argv = {TASKQ_TEST_WORKER, url, queues, std::to_string(lease_ms),
                                     std::to_string(grace_ms)};
    if (idle_poll_ms > 0) argv.push_back(std::to_string(idle_poll_ms));
    process_ = ChildProcess(argv);
  }
  pid_t pid() const { return process_.pid(); }
  // Sends the signal and waits for the process to end.
  void Kill(int signal) { process_.Kill(signal); }

 private:
  ChildProcess process_;
};

}  // namespace taskq::testing
