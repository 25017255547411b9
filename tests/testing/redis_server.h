// A real redis-server for tests, on a free loopback port, in its own temporary directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "broker/redis_connection.h"
#include "testing/child_process.h"

namespace taskq::testing {

struct RedisServerOptions {
  bool append_only = false;  // AOF with appendfsync always, for restart tests
  std::vector<std::string> extra_args;
  // Non-empty: run a Redis Sentinel with this configuration (written to the server's directory,
  // where Sentinel keeps rewriting it) instead of a data server.
  std::string sentinel_config;
  // Serve TLS only (test_certificates.h: the server certificate; client certificates are
  // checked when given, required with extra_args {"--tls-auth-clients", "yes"}); url() is then
  // rediss:// with the test CA and client certificate.
  bool tls = false;
  // Non-empty: the server (or sentinel) requires it (requirepass), and url() carries it.
  std::string password;
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string url() const;
  const std::string& dir() const { return dir_; }

  // Stops the server (SIGKILL: nothing more is written) and starts it again on the same port and
  // directory; with AOF on, what was acknowledged is replayed.
  void Kill();
  void Start();
  void Restart() {
    Kill();
    Start();
  }
  // SIGSTOP / SIGCONT: a frozen server keeps its sockets open and answers nothing, as a host cut
  // off by the network would.
  void Freeze();
  void Thaw();

  // A fresh connection for seeding and inspecting keys.
  std::unique_ptr<broker::RedisConnection> Connect() const;
  // Runs one command on a shared connection; fails the test on a transport error.
  broker::Reply Run(const broker::Command& command);

 private:
  // Starts the server on port_; false when it exited (the port was taken) or never answered.
  bool TryStart();

  RedisServerOptions options_;
  std::string dir_;
  int port_ = 0;
  ChildProcess process_;
  std::unique_ptr<broker::RedisConnection> connection_;
};

}  // namespace taskq::testing
