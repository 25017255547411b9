// A redis-server child process for the benchmarks (bench/README.md: started by the benchmark
// on a free loopback port).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace taskq::bench {

class RedisProcess {
 public:
  // tls: the server also serves TLS on a second port, with a CA and certificate made with the
  // openssl command in its directory, and url() is rediss:// there (Cli keeps the plain port).
  // cluster_node: it runs in cluster mode, not yet part of a cluster (RedisClusterProcesses).
  explicit RedisProcess(bool append_only, bool tls = false, bool cluster_node = false);
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  bool ok() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string url() const;
  // Runs a command through redis-cli and returns its output ("" on failure).
  std::string Cli(const std::vector<std::string>& args) const;
  long long UsedMemory() const;
  long long CommandCalls(const std::string& command) const;  // from INFO commandstats
  // CPU seconds (user + system) of Redis' main thread, the one that runs commands and scripts.
  double MainThreadCpuSeconds() const;

 private:
  std::string dir_;
  int port_ = 0;
  int tls_port_ = 0;  // 0: no TLS
  pid_t pid_ = -1;
};

// Runs a shell command and returns its standard output.
std::string Capture(const std::string& command);

}  // namespace taskq::bench
