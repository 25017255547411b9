// The byte stream of one Redis connection: a TCP or Unix socket, or TLS over TCP (tls_stream.h).
// Blocking, with the endpoint's timeouts: a write or a read that waits longer than the command
// timeout fails, and the connection is then given up. RedisConnection writes RESP into it and
// parses what it reads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "broker/redis_endpoint.h"
#include "common/unique_fd.h"
#include "taskq/status.h"

namespace taskq::broker {

class RedisStream {
 public:
  virtual ~RedisStream() = default;

  // Writes all of `bytes`.
  virtual Status WriteAll(std::string_view bytes) = 0;
  // Reads what is there, up to `capacity` bytes. wait: blocks until some arrive (an error at the
  // command timeout, or at the end of the stream); else returns 0 when nothing can be read
  // without waiting.
  virtual Result<size_t> Read(char* buffer, size_t capacity, bool wait) = 0;
  // Whether bytes were received that Read returns without the socket becoming readable (TLS
  // records decrypted and waiting): a caller about to poll fd() must read those first.
  virtual bool HasBuffered() const = 0;
  int fd() const { return socket_.get(); }

 protected:
  explicit RedisStream(UniqueFd socket) : socket_(std::move(socket)) {}
  UniqueFd socket_;
};

// Connects to the endpoint's host and port (or Unix socket) within its connect timeout, then
// with TLS when it says so. Errors name the endpoint (its password masked).
Result<std::unique_ptr<RedisStream>> ConnectRedisStream(const RedisEndpoint& endpoint);

// A connected socket with the endpoint's command timeout on reads and writes.
class PlainRedisStream : public RedisStream {
 public:
  explicit PlainRedisStream(UniqueFd socket) : RedisStream(std::move(socket)) {}
  Status WriteAll(std::string_view bytes) override;
  Result<size_t> Read(char* buffer, size_t capacity, bool wait) override;
  bool HasBuffered() const override { return false; }
};

// Sets `timeout` on the socket's reads and writes (SO_RCVTIMEO, SO_SNDTIMEO).
void SetSocketTimeouts(int fd, std::chrono::milliseconds timeout);

// The text of an I/O error: a timeout says so ("no reply within the command timeout").
std::string IoErrorText(int error);

}  // namespace taskq::broker
