// The one way tests start programs (redis-server, the Python test servers, taskq and the test
// worker): a child that dies with the test process (PR_SET_PDEATHSIG), even when that crashes,
// and whose output goes to a log file, or to the test's output where it helps to read a failure.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace taskq::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Starts argv (argv[0]: a path, or a name looked up in PATH). `log_path` receives its stdout
  // and stderr; empty: they are the test's.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path = "");
  ~ChildProcess() { Kill(9); }
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // False once it has exited (it is then reaped).
  bool Running();
  // Sends the signal without waiting (SIGSTOP, SIGCONT).
  void Signal(int signal) const;
  // Sends the signal and waits for the exit; returns the wait status (-1: it was not running).
  int Kill(int signal);

 private:
  pid_t pid_ = -1;
};

// Waits until ready() holds while the child runs, polling every 20 ms for up to `timeout`. False
// when the child exited or the time ran out.
bool WaitUntilReady(ChildProcess& child, const std::function<bool()>& ready,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The port a child wrote to `port_file` once it listens (written under a temporary name and
// renamed, so it is read whole): the child chose a free port itself and bound it, so no other
// process can take it between the choice and the bind. -1 when it did not come (WaitUntilReady).
int WaitForPortFile(ChildProcess& child, const std::string& port_file,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A loopback port nobody listens on now, for a program that cannot choose its own (redis-server)
// and for addresses meant to refuse connections. Another process may take it before it is used.
int FreeLoopbackPort();

// The whole file ("" when it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace taskq::testing
