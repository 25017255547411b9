#include "bin/managed_redis.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "broker/redis_connection.h"

namespace taskq::bin {
namespace {

bool Pings(const std::string& url) {
  auto endpoint = broker::ParseRedisUrl(url);
  endpoint->connect_timeout = std::chrono::milliseconds(200);
  auto connection = broker::RedisConnection::Open(*endpoint);
  if (!connection.ok()) return false;
  auto pong = (*connection)->Run(broker::Command{"PING"});
  return pong.ok() && pong->view().str() == "PONG";
}

}  // namespace

ManagedRedis::~ManagedRedis() { Stop(); }

Status ManagedRedis::Spawn() {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot create " + options_.data_dir.string() + ": " + ec.message());
  }
  const std::string dir = std::filesystem::absolute(options_.data_dir).string();
  std::vector<std::string> args = {options_.redis_server,
                                   "--port",
                                   std::to_string(options_.port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir,
                                   "--appendonly",
                                   "yes",
                                   "--appendfsync",
                                   "everysec",
                                   "--save",
                                   "",
                                   "--maxmemory-policy",
                                   "noeviction",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   dir + "/redis.log"};
  pid_t pid = ::fork();
  if (pid < 0) return Internal("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive taskq
    // taskq blocks SIGTERM/SIGINT to sigwait for them; exec keeps the mask, so undo it here or
    // redis-server would ignore the SIGTERM that stops it cleanly.
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_UNBLOCK, &all, nullptr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  std::lock_guard lock(mu_);
  pid_ = pid;
  return Status::Ok();
}

Status ManagedRedis::Start() {
  if (Pings(url())) {
    return Status(StatusCode::kFailedPrecondition,
                  "port " + std::to_string(options_.port) +
                      " already has a Redis; pass --redis-url to use it, or --redis-port to start "
                      "a managed one elsewhere");
  }
  TASKQ_RETURN_IF_ERROR(Spawn());
  for (int i = 0; i < 1000; ++i) {
    if (Pings(url())) {
      spdlog::info("managed redis-server on {} (data in {})", url(), options_.data_dir.string());
      supervisor_ = std::thread([this] { Supervise(); });
      return Status::Ok();
    }
    int status = 0;
    pid_t pid;
    {
      std::lock_guard lock(mu_);
      pid = pid_;
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return Unavailable("redis-server exited at start; see " +
                         (options_.data_dir / "redis.log").string() +
                         " (is it installed? scripts/bootstrap installs it)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Unavailable("redis-server did not answer within 10 s");
}

void ManagedRedis::Supervise() {
  while (!stopping_.load()) {
    pid_t pid;
    {
      std::lock_guard lock(mu_);
      pid = pid_;
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || stopping_.load()) return;
    spdlog::error("managed redis-server exited (status {}); restarting it", status);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (!stopping_.load() && !Spawn().ok()) return;
  }
}

void ManagedRedis::Stop() {
  if (stopping_.exchange(true)) return;
  pid_t pid;
  {
    std::lock_guard lock(mu_);
    pid = pid_;
  }
  if (pid > 0) {
    // SIGTERM makes redis-server shut down cleanly (the AOF is flushed and fsynced).
    ::kill(pid, SIGTERM);
  }
  if (supervisor_.joinable()) {
    supervisor_.join();
  } else if (pid > 0) {
    ::waitpid(pid, nullptr, 0);
  }
  spdlog::info("managed redis-server stopped");
}

}  // namespace taskq::bin
