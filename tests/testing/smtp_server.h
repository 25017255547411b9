// A real SMTP server for tests (tests/testing/smtp_server.py on Debian's aiosmtpd), on a free
// loopback port, storing what it receives in its own temporary directory.
#pragma once

#include <string>
#include <vector>

#include "testing/child_process.h"

namespace taskq::testing {

struct SmtpServerOptions {
  std::string auth;  // "user:password": AUTH is required; empty: no AUTH
};

struct ReceivedMail {
  std::string mail_from;                // envelope sender
  std::vector<std::string> recipients;  // envelope recipients, in RCPT order
  std::string raw;                      // the message's bytes as received
  std::string path;                     // the .eml file holding `raw`
};

class SmtpServer {
 public:
  explicit SmtpServer(SmtpServerOptions options = {});
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  // Every message accepted so far, in order of arrival.
  std::vector<ReceivedMail> Received() const;

 private:
  std::string dir_;
  int port_ = 0;
  ChildProcess process_;
};

// A temporary directory removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace taskq::testing
