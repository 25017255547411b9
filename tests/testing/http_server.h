// A real HTTP server for tests (tests/testing/http_server.py on Python's http.server), on a
// loopback port it picks itself, recording every request it receives. The paths it answers are
// listed at the top of the script.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "testing/child_process.h"

namespace taskq::testing {

struct RecordedRequest {
  std::string method;
  std::string path;                                          // with the query string
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;

  // The first header of that name (compared without case), or "" when there is none.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path
  std::string Url(std::string_view path) const;

  // Files put here are served at Url("/files/NAME").
  std::string files_dir() const { return dir_ + "/files"; }

  // Every request received so far, in order of arrival.
  std::vector<RecordedRequest> Requests() const;

 private:
  std::string dir_;
  int port_ = 0;
  ChildProcess process_;
};

}  // namespace taskq::testing
