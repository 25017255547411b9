// The HTTP request reader: bytes from a client through Beast's parser, with the server's limits,
// into the HttpRequest routes see, and its query through the query helpers.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>

#include "api/beast_request.h"
#include "api/query.h"
#include "fuzz_check.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 << 10);  // HttpServerOptions' defaults
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t offset = 0;
  while (offset < size && !parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(data + offset, size - offset), ec);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return 0;
    if (used == 0) break;
    offset += used;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  std::optional<taskq::api::HttpRequest> request = taskq::api::FromBeastRequest(parser.get());
  if (!request) return 0;
  TASKQ_FUZZ_CHECK(request->path.find('\0') == std::string::npos);
  for (const auto& [name, value] : request->headers) {
    for (char c : name) TASKQ_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  }
  for (const char* name : {"limit", "state", "cursor", "timeout_ms"}) {
    (void)taskq::api::QueryParam(request->query, name);
    (void)taskq::api::QueryInt(request->query, name, 0, -1000, 1000);
  }
  return 0;
}
