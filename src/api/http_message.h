// HTTP requests and responses as plain values. Only http_server.cc sees Beast; routes, the router
// and the services work on these types, which keeps the heavy headers in one translation unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskq::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded path, without the query
  std::string query;   // raw query string, without '?'
  // All request headers, names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The peer's IP address as the server saw it ("127.0.0.1", "::1"); empty when unknown. Behind
  // a reverse proxy, the proxy's.
  std::string client_address;
  // Set by the API service once the caller is known: whether it holds the admin scope (true
  // when the API takes no keys), and the only job types its key may create (empty: any its
  // scope may). Whatever a client sends never sets them.
  bool caller_admin = false;
  std::vector<std::string> caller_types;

  // The value of a header (its name in lower case), or empty.
  std::string_view Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
};

// The open end of a streamed response (Server-Sent Events). Thread-safe.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Queues text for the client. False once the stream is closed (the client went away, fell too
  // far behind, or the server is stopping): the producer should drop it then.
  virtual bool Write(std::string text) = 0;
  virtual void Close() = 0;
  virtual bool open() const = 0;  // false once closed: Write would refuse
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // Set for a streamed response: the head goes out without a length, then `body`, then this is
  // called (on an I/O thread; do not block) with the stream. The connection stays open, with a
  // comment line every 15 s to notice a vanished client, until the stream is closed.
  std::function<void(std::shared_ptr<ResponseStream>)> open_stream;
};

// What a server does with a request whose headers are in and whose body is not read yet.
struct HeadDecision {
  // Sent instead of reading the body (the connection then closes): a request refused on its
  // headers alone (no credentials, no route) costs no more than its headers.
  std::optional<HttpResponse> refuse;
  // The largest body this request may have; the server's own limit caps it.
  size_t max_body_bytes = SIZE_MAX;
};
// Decides on a request from its method, path, query and headers (its body is empty).
using HeadCheck = std::function<HeadDecision(const HttpRequest& head)>;

// Answers a request, possibly later and from another thread; must be called exactly once.
using Respond = std::function<void(HttpResponse)>;
// What a server calls for each request it has read in full.
using RequestHandler = std::function<void(HttpRequest, Respond)>;

}  // namespace taskq::api
