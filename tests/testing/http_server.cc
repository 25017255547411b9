#include "testing/http_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace taskq::testing {
namespace {

namespace json = boost::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

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
  const std::string port_file = dir_ + "/port";
  std::vector<std::string> args = {"/usr/bin/python3", TASKQ_HTTP_SERVER_SCRIPT, port_file,
                                   dir_ + "/requests.jsonl"};
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
  // The script writes the port once it listens; it picked a free one itself, so no other process
  // can take it between choosing and binding.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(port_file)) {
      port_ = std::stoi(ReadFile(port_file));
      return;
    }
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "HTTP server did not start: " << ReadFile(log);
}

HttpServer::~HttpServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string HttpServer::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::vector<RecordedRequest> HttpServer::Requests() const {
  std::vector<RecordedRequest> requests;
  std::istringstream lines(ReadFile(dir_ + "/requests.jsonl"));
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
