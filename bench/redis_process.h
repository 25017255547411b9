// A redis-server child process for the benchmarks (bench/README.md: started by the benchmark
// on a free loopback port).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace taskq::bench {

class RedisProcess {
 public:
  explicit RedisProcess(bool append_only);
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  bool ok() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // Runs a command through redis-cli and returns its output ("" on failure).
  std::string Cli(const std::vector<std::string>& args) const;
  long long UsedMemory() const;
  long long CommandCalls(const std::string& command) const;  // from INFO commandstats
  // CPU seconds (user + system) of Redis' main thread, the one that runs commands and scripts.
  double MainThreadCpuSeconds() const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Runs a shell command and returns its standard output.
std::string Capture(const std::string& command);

}  // namespace taskq::bench
