#include "testing/http_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <sstream>

namespace taskq::testing {
namespace {

namespace json = boost::json;

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

}  // namespace

std::string RecordedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoringCase(key, name)) return value;
  }
  return "";
}

bool RecordedRequest::HasHeader(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoringCase(h.first, name); });
}

HttpServer::HttpServer() {
  char pattern[] = "/tmp/taskq-http-XXXXXX";
  dir_ = ::mkdtemp(pattern);
  std::filesystem::create_directory(files_dir());
  const std::string log = dir_ + "/server.log";
  process_ = ChildProcess(
      {"/usr/bin/python3", TASKQ_HTTP_SERVER_SCRIPT, dir_ + "/port", dir_ + "/requests.jsonl"},
      log);
  port_ = WaitForPortFile(process_, dir_ + "/port");
  if (port_ < 0) ADD_FAILURE() << "HTTP server did not start: " << ReadWholeFile(log);
}

HttpServer::~HttpServer() {
  process_.Kill(SIGKILL);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string HttpServer::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::vector<RecordedRequest> HttpServer::Requests() const {
  std::vector<RecordedRequest> requests;
  std::istringstream lines(ReadWholeFile(dir_ + "/requests.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    const json::value entry = json::parse(line, ec);
    if (ec) {
      ADD_FAILURE() << "bad request record: " << line;
      continue;
    }
    RecordedRequest request;
    request.method = json::value_to<std::string>(entry.at("method"));
    request.path = json::value_to<std::string>(entry.at("path"));
    for (const json::value& header : entry.at("headers").as_array()) {
      request.headers.emplace_back(json::value_to<std::string>(header.at(0)),
                                   json::value_to<std::string>(header.at(1)));
    }
    request.body = FromHex(json::value_to<std::string>(entry.at("body_hex")));
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace taskq::testing
