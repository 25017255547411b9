#include "testing/smtp_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>

namespace taskq::testing {

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
  std::vector<std::string> args = {"/usr/bin/python3", TASKQ_SMTP_SERVER_SCRIPT, dir_ + "/port",
                                   dir_};
  if (!options.auth.empty()) args.insert(args.end(), {"--auth", options.auth});
  process_ = ChildProcess(args, dir_ + "/server.log");
  port_ = WaitForPortFile(process_, dir_ + "/port");
  if (port_ < 0) {
    ADD_FAILURE() << "SMTP server did not start: " << ReadWholeFile(dir_ + "/server.log");
  }
}

SmtpServer::~SmtpServer() {
  process_.Kill(SIGKILL);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<ReceivedMail> SmtpServer::Received() const {
  std::vector<ReceivedMail> mails;
  for (int n = 1;; ++n) {
    const std::filesystem::path eml = dir_ + "/" + std::to_string(n) + ".eml";
    if (!std::filesystem::exists(eml)) break;
    ReceivedMail mail;
    std::istringstream envelope(ReadWholeFile(dir_ + "/" + std::to_string(n) + ".env"));
    std::getline(envelope, mail.mail_from);
    for (std::string line; std::getline(envelope, line);) mail.recipients.push_back(line);
    mail.raw = ReadWholeFile(eml.string());
    mail.path = eml.string();
    mails.push_back(std::move(mail));
  }
  return mails;
}

}  // namespace taskq::testing
