#include "testing/smtp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/redis_server.h"

namespace taskq::testing {
namespace {

bool AcceptsConnections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TempDir::TempDir() {
  char pattern[] = "/tmp/taskq-test-XXXXXX";
  path_ = ::mkdtemp(pattern);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

SmtpServer::SmtpServer(SmtpServerOptions options) {
  char pattern[] = "/tmp/taskq-smtp-XXXXXX";
  dir_ = ::mkdtemp(pattern);
  port_ = FreeLoopbackPort();
  std::vector<std::string> args = {"/usr/bin/python3", TASKQ_SMTP_SERVER_SCRIPT,
                                   std::to_string(port_), dir_};
  if (!options.auth.empty()) args.insert(args.end(), {"--auth", options.auth});
  const std::string log = dir_ + "/server.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    // Dies with the test process, even when that crashes; keeps the test's output clean.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Python starts in a few hundred ms; allow for a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (AcceptsConnections(port_)) return;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "SMTP server did not start on port " << port_ << ": "
                << ReadFile(dir_ + "/server.log");
}

SmtpServer::~SmtpServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<ReceivedMail> SmtpServer::Received() const {
  std::vector<ReceivedMail> mails;
  for (int n = 1;; ++n) {
    const std::filesystem::path eml = dir_ + "/" + std::to_string(n) + ".eml";
    if (!std::filesystem::exists(eml)) break;
    ReceivedMail mail;
    std::istringstream envelope(ReadFile(dir_ + "/" + std::to_string(n) + ".env"));
    std::getline(envelope, mail.mail_from);
    for (std::string line; std::getline(envelope, line);) mail.recipients.push_back(line);
    mail.raw = ReadFile(eml);
    mail.path = eml.string();
    mails.push_back(std::move(mail));
  }
  return mails;
}

}  // namespace taskq::testing
