#include "testing/redis_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/test_certificates.h"

namespace taskq::testing {

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  char pattern[] = "/tmp/taskq-redis-XXXXXX";
  dir_ = ::mkdtemp(pattern);
  // redis-server cannot pick its own port: a port found free may be taken before it binds, and
  // then it exits. Another port is tried then.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreeLoopbackPort();
    if (TryStart()) return;
  }
  ADD_FAILURE() << "redis-server did not start: " << ReadWholeFile(dir_ + "/redis.log");
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool RedisServer::TryStart() {
  std::vector<std::string> args;
  if (options_.sentinel_config.empty()) {
    args = {"redis-server", "--save", "", "--appendonly", options_.append_only ? "yes" : "no"};
    if (options_.append_only) args.insert(args.end(), {"--appendfsync", "always"});
  } else {
    const std::string config = dir_ + "/sentinel.conf";  // Sentinel rewrites it: written once
    if (!std::filesystem::exists(config)) std::ofstream(config) << options_.sentinel_config;
    args = {"redis-server", config, "--sentinel"};
  }
  if (options_.tls) {
    const TestCertificates& certificates = Certificates();
    args.insert(args.end(),
                {"--port", "0", "--tls-port", std::to_string(port_), "--tls-cert-file",
                 certificates.server_cert, "--tls-key-file", certificates.server_key,
                 "--tls-ca-cert-file", certificates.ca, "--tls-auth-clients", "optional"});
  } else {
    args.insert(args.end(), {"--port", std::to_string(port_)});
  }
  if (!options_.password.empty()) args.insert(args.end(), {"--requirepass", options_.password});
  args.insert(args.end(), {"--bind", "127.0.0.1", "--dir", dir_, "--daemonize", "no", "--logfile",
                           dir_ + "/redis.log"});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = ChildProcess(args, "/dev/null");  // its log is redis.log in dir_
  // Ready once the server on the port is this child (another program may hold the port) and
  // has loaded its data (INFO answers while the append-only file loads; PING does not).
  const std::string own_pid = "process_id:" + std::to_string(process_.pid()) + "\r\n";
  auto endpoint = broker::ParseRedisUrl(url());
  return WaitUntilReady(process_, [&] {
    auto connection = broker::RedisConnection::Open(*endpoint);
    if (!connection.ok()) return false;
    auto info = (*connection)->Run(broker::Command{"INFO", "server"});
    if (!info.ok() || info->view().str().find(own_pid) == std::string_view::npos) return false;
    auto pong = (*connection)->Run(broker::Command{"PING"});
    if (!pong.ok() || pong->view().str() != "PONG") return false;
    connection_ = std::move(*connection);
    return true;
  });
}

std::string RedisServer::url() const {
  const std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  if (!options_.tls) return "redis://" + auth + "127.0.0.1:" + std::to_string(port_);
  const TestCertificates& certificates = Certificates();
  return "rediss://" + auth + "127.0.0.1:" + std::to_string(port_) +
         "/0?tls_ca=" + certificates.ca + "&tls_cert=" + certificates.client_cert +
         "&tls_key=" + certificates.client_key;
}

void RedisServer::Start() {
  if (!TryStart()) FAIL() << "redis-server did not start on port " << port_;
}

void RedisServer::Freeze() { process_.Signal(SIGSTOP); }

void RedisServer::Thaw() { process_.Signal(SIGCONT); }

void RedisServer::Kill() {
  connection_.reset();
  process_.Kill(SIGKILL);
}

std::unique_ptr<broker::RedisConnection> RedisServer::Connect() const {
  auto connection = broker::RedisConnection::Open(*broker::ParseRedisUrl(url()));
  if (!connection.ok()) {
    ADD_FAILURE() << connection.status().ToString();
    return nullptr;
  }
  return std::move(*connection);
}

broker::Reply RedisServer::Run(const broker::Command& command) {
  if (!connection_ || connection_->broken()) connection_ = Connect();
  auto reply = connection_->Run(command);
  if (!reply.ok() && connection_->broken()) {
    // The server closed the shared connection (a restart, or Sentinel's CLIENT KILL when it
    // reconfigures a server): once more on a new one.
    connection_ = Connect();
    reply = connection_->Run(command);
  }
  if (!reply.ok()) {
    ADD_FAILURE() << reply.status().ToString();
    std::abort();
  }
  return std::move(*reply);
}

}  // namespace taskq::testing
