#include "bin/managed_redis.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>
#include <vector>

#include "bin/secret_files.h"
#include "broker/broker.h"
#include "common/percent_encoding.h"
#include "common/unique_fd.h"
#include "common/url_password.h"

namespace taskq::bin {
namespace {

// True when something accepts connections on 127.0.0.1:port.
bool PortInUse(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

std::string ErrnoText() { return std::generic_category().message(errno); }

// Writes `content` to `path`, readable and writable by the owner only (also when it existed).
Status WritePrivateFile(const std::filesystem::path& path, const std::string& content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid() || ::fchmod(fd.get(), 0600) != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot write " + path.string() + ": " + ErrnoText());
  }
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot write " + path.string() + ": " + ErrnoText());
  }
  return Status::Ok();
}

// The password in DATA/password, made (32 random bytes, hex) on first start. A file others could
// read is made private again.
Result<std::string> LoadOrMakePassword(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "password";
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return Status(StatusCode::kFailedPrecondition, path.string() + " is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
      spdlog::warn("{} was readable by others; making it private (mode 0600)", path.string());
      ::chmod(path.c_str(), 0600);
    }
    Result<std::string> password = ReadSecretFile(path.string(), path.string());
    if (!password.ok()) return Status(StatusCode::kFailedPrecondition, password.status().message());
    return password;
  }
  UniqueFd random(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  unsigned char bytes[32];
  if (!random.valid() || ::read(random.get(), bytes, sizeof bytes) != sizeof bytes) {
    return Internal("cannot read /dev/urandom: " + ErrnoText());
  }
  std::string password = HexEncode(bytes);
  TASKQ_RETURN_IF_ERROR(WritePrivateFile(path, password + "\n"));
  spdlog::info("managed redis-server: generated its password into {}", path.string());
  return password;
}

}  // namespace

std::string LocalRedisUrl(const std::string& data_dir, int port) {
  const std::string plain = "redis://127.0.0.1:" + std::to_string(port);
  const std::filesystem::path path = std::filesystem::path(data_dir) / "redis" / "password";
  if (::access(path.c_str(), R_OK) != 0) return plain;
  Result<std::string> password = ReadSecretFile(path.string(), path.string());
  if (!password.ok()) return plain;
  return "redis://:" + *password + "@127.0.0.1:" + std::to_string(port);
}

ManagedRedis::~ManagedRedis() { Stop(); }

Status ManagedRedis::Spawn() {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot create " + options_.data_dir.string() + ": " + ec.message());
  }
  const std::string dir = std::filesystem::absolute(options_.data_dir).string();
  // The password goes in a config file only the owner can read: a command line is visible to
  // every local user (/proc/PID/cmdline).
  const std::string config = dir + "/redis.conf";
  TASKQ_RETURN_IF_ERROR(WritePrivateFile(config, "requirepass \"" + password_ + "\"\n"));
  std::vector<std::string> args = {options_.redis_server,
                                   config,
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
  if (PortInUse(options_.port)) {
    return Status(StatusCode::kFailedPrecondition,
                  "port " + std::to_string(options_.port) +
                      " is already in use (another Redis?); pass --redis-url to use a Redis of "
                      "your own, or --redis-port to start a managed one elsewhere");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  // The data (AOF, password, config) is the owner's alone.
  if (!ec) {
    std::filesystem::permissions(options_.data_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot prepare " + options_.data_dir.string() + ": " + ec.message());
  }
  Result<std::string> password = LoadOrMakePassword(options_.data_dir);
  if (!password.ok()) return password.status();
  password_ = std::move(*password);
  TASKQ_RETURN_IF_ERROR(Spawn());
  for (int i = 0; i < 1000; ++i) {
    if (broker::Pings(url(), std::chrono::milliseconds(200))) {
      spdlog::info("managed redis-server on {} (data in {})", MaskUrlPassword(url()),
                   options_.data_dir.string());
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
    if (stopping_.load()) return;
    if (PortInUse(options_.port)) {
      // Someone took the port while Redis was down: taskq's connections would hand them the
      // password and the jobs. Stop (main waits for SIGTERM) instead.
      spdlog::critical(
          "port {} was taken by another process while the managed redis-server was down; "
          "stopping taskq rather than connect to it",
          options_.port);
      ::kill(::getpid(), SIGTERM);
      return;
    }
    if (!Spawn().ok()) return;
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
