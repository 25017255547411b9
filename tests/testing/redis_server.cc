#include "testing/redis_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace taskq::testing {

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  char pattern[] = "/tmp/taskq-redis-XXXXXX";
  dir_ = ::mkdtemp(pattern);
  port_ = FreeLoopbackPort();
  Start();
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RedisServer::Start() {
  std::vector<std::string> args;
  if (options_.sentinel_config.empty()) {
    args = {"redis-server", "--save", "", "--appendonly", options_.append_only ? "yes" : "no"};
    if (options_.append_only) args.insert(args.end(), {"--appendfsync", "always"});
  } else {
    const std::string config = dir_ + "/sentinel.conf";  // Sentinel rewrites it: written once
    if (!std::filesystem::exists(config)) std::ofstream(config) << options_.sentinel_config;
    args = {"redis-server", config, "--sentinel"};
  }
  args.insert(args.end(), {"--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_,
                           "--daemonize", "no", "--logfile", dir_ + "/redis.log"});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    // Dies with the test process, even when that crashes; keeps the test's output pipes free.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  auto endpoint = broker::ParseRedisUrl(url());
  for (int i = 0; i < 500; ++i) {
    auto connection = broker::RedisConnection::Open(*endpoint);
    if (connection.ok()) {
      auto pong = (*connection)->Run(broker::Command{"PING"});
      if (pong.ok() && pong->view().str() == "PONG") {
        connection_ = std::move(*connection);
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "redis-server did not start on port " << port_;
}

void RedisServer::Freeze() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::Thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void RedisServer::Kill() {
  connection_.reset();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
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
