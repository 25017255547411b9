// An HTTP/1.1 server (Boost.Beast, one coroutine per connection, keep-alive). It reads whole
// requests within limits and hands each to a RequestHandler; it knows nothing about routes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http_message.h"
#include "taskq/status.h"

namespace taskq::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";   // an IP address
  uint16_t port = 8000;             // 0: any free port (see HttpServer::port())
  int threads = 1;                  // I/O threads; handlers that block must post elsewhere
  size_t max_body_bytes = 1 << 20;  // the most any request may send; on_head may lower it
  size_t max_header_bytes = 16 << 10;
  // Called once a request's headers are read, before its body (and before "100 Continue").
  // Empty: every request is read in full, up to max_body_bytes.
  HeadCheck on_head;
  int max_connections = 1024;  // beyond this, new connections get 503 and are closed
  // Open connections from one client address at most (beyond: 503, closed), so that one client
  // cannot take every slot.
  int max_connections_per_client = 128;
  // A request's headers must arrive within this (and a keep-alive connection is closed when no
  // request starts within it): a client trickling header bytes (slow-loris) holds a slot no
  // longer. The body then has request_timeout.
  std::chrono::milliseconds header_timeout{10000};
  // A request's body must arrive within this once its headers are in: a slow client cannot pin
  // a connection.
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds response_timeout{30000};  // the handler's answer and its write
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler);
  // Stops if running. Responds still pending afterwards must not be called: stop what calls them
  // before destroying the server.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens without serving: connections wait in the backlog until Start, so a caller
  // can learn port() and open its other listeners before this one answers. Fails (kUnavailable)
  // when the address cannot be bound.
  Status Listen();
  // Listens if not yet, and starts the I/O threads.
  Status Start();
  // Closes the listener and every connection and joins the I/O threads. Responds called after
  // this are dropped. A stopped server cannot listen or start again (kFailedPrecondition).
  void Stop();
  uint16_t port() const;  // the bound port, after Listen or Start

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taskq::api
