#include "redis_process.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace taskq::bench {
namespace {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

std::string Capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  ::pclose(pipe);
  return out;
}

// A CA and a server certificate for 127.0.0.1 it signed, in `dir` (the tests' script); false
// when openssl failed.
bool MakeCertificates(const std::string& dir) {
  return std::system((std::string(TASKQ_MAKE_CERTIFICATES_SCRIPT) + " " + dir).c_str()) == 0;
}

RedisProcess::RedisProcess(bool append_only, bool tls, bool cluster_node) {
  char pattern[] = "/tmp/taskq-bench-XXXXXX";
  dir_ = ::mkdtemp(pattern);
  port_ = FreePort();
  while (cluster_node && port_ > 55000) port_ = FreePort();  // its bus port is port + 10000
  if (tls && !MakeCertificates(dir_)) return;                // not ok()
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   append_only ? "yes" : "no"};
  if (append_only) args.insert(args.end(), {"--appendfsync", "everysec"});
  if (cluster_node) {
    args.insert(args.end(), {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"});
  }
  if (tls) {
    tls_port_ = FreePort();
    args.insert(args.end(), {"--tls-port", std::to_string(tls_port_), "--tls-cert-file",
                             dir_ + "/server.pem", "--tls-key-file", dir_ + "/server.key",
                             "--tls-ca-cert-file", dir_ + "/ca.pem", "--tls-auth-clients", "no"});
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::FILE* devnull = std::fopen("/dev/null", "w");
    ::dup2(fileno(devnull), STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 500; ++i) {
    if (Cli({"PING"}).starts_with("PONG")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

std::string RedisProcess::url() const {
  if (tls_port_ == 0) return "redis://127.0.0.1:" + std::to_string(port_);
  return "rediss://127.0.0.1:" + std::to_string(tls_port_) + "/0?tls_ca=" + dir_ + "/ca.pem";
}

RedisProcess::~RedisProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string RedisProcess::Cli(const std::vector<std::string>& args) const {
  std::string command = "redis-cli -p " + std::to_string(port_);
  for (const auto& a : args) command += " '" + a + "'";
  return Capture(command + " 2>/dev/null");
}

long long RedisProcess::UsedMemory() const {
  std::string info = Cli({"INFO", "memory"});
  auto pos = info.find("used_memory:");
  return pos == std::string::npos ? 0 : std::stoll(info.substr(pos + 12));
}

long long RedisProcess::CommandCalls(const std::string& command) const {
  std::string info = Cli({"INFO", "commandstats"});
  auto pos = info.find("cmdstat_" + command + ":calls=");
  return pos == std::string::npos ? 0 : std::stoll(info.substr(pos + 15 + command.size()));
}

double RedisProcess::MainThreadCpuSeconds() const {
  std::string info = Cli({"INFO", "cpu"});
  double total = 0;
  for (const char* field : {"used_cpu_sys_main_thread:", "used_cpu_user_main_thread:"}) {
    auto pos = info.find(field);
    if (pos != std::string::npos) total += std::stod(info.substr(pos + std::strlen(field)));
  }
  return total;
}

}  // namespace taskq::bench
