// A blocking connection to Redis with pipelining: commands written as RESP into a stream (a
// socket, or TLS: redis_stream.h), replies parsed by hiredis' reader into redisReply trees. One
// thread uses a connection at a time. Blocking I/O is deliberate: each worker queue loop and each
// client owns its connection, and every call it makes is one pipelined round trip, so there is
// nothing to multiplex.
#pragma once

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/redis_endpoint.h"
#include "broker/redis_stream.h"
#include "taskq/status.h"

namespace taskq::broker {

// A read-only view of one node of a reply tree.
class ReplyView {
 public:
  explicit ReplyView(const redisReply* reply) : reply_(reply) {}

  bool is_error() const { return reply_->type == REDIS_REPLY_ERROR; }
  bool is_nil() const { return reply_->type == REDIS_REPLY_NIL; }
  bool is_array() const { return reply_->type == REDIS_REPLY_ARRAY; }
  bool is_integer() const { return reply_->type == REDIS_REPLY_INTEGER; }
  bool is_string() const {
    return reply_->type == REDIS_REPLY_STRING || reply_->type == REDIS_REPLY_STATUS;
  }
  std::string_view str() const {
    return (is_string() || is_error()) ? std::string_view(reply_->str, reply_->len)
                                       : std::string_view();
  }
  long long integer() const { return is_integer() ? reply_->integer : 0; }
  size_t size() const { return is_array() ? reply_->elements : 0; }
  ReplyView operator[](size_t i) const { return ReplyView(reply_->element[i]); }

  // Integer replies, or strings holding an integer (Lua numbers in tables come back as integers;
  // HGET values come back as strings). Returns `fallback` otherwise.
  long long AsInt(long long fallback = 0) const;

 private:
  const redisReply* reply_;
};

// Owns one reply tree.
class Reply {
 public:
  explicit Reply(redisReply* reply) : reply_(reply) {}
  ReplyView view() const { return ReplyView(reply_.get()); }
  // An error reply as a Status (NOSCRIPT, WRONGTYPE, script errors ...); OK otherwise.
  Status ErrorStatus() const;

 private:
  struct Free {
    void operator()(redisReply* r) const { freeReplyObject(r); }
  };
  std::unique_ptr<redisReply, Free> reply_;
};

// Replies answered one by one, as one answer: moves them into `replies` in order, or returns the
// first failure.
Status TakeAllReplies(std::vector<Result<Reply>>& each, std::vector<Reply>* replies);

// A command in Redis' wire form (RESP), encoded as its arguments are added: binary-safe, and one
// buffer where a string per argument would cost an allocation each (a bulk enqueue has thousands).
class Command {
 public:
  Command() = default;
  Command(std::initializer_list<std::string_view> args) {
    for (auto a : args) Add(a);
  }
  Command& Add(std::string_view arg);
  Command& Add(long long value);
  size_t size() const { return count_; }
  // "*<count>\r\n", which goes in front of arguments().
  std::string Header() const;
  // "$<length>\r\n<bytes>\r\n" for each argument, in order.
  const std::string& arguments() const { return encoded_; }

 private:
  std::string encoded_;
  size_t count_ = 0;
};

class RedisConnection {
 public:
  // Connects, authenticates and selects the database. A Sentinel endpoint first locates its
  // master (sentinel.h) and then checks that the server it reached says it is the master.
  static Result<std::unique_ptr<RedisConnection>> Open(const RedisEndpoint& endpoint);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Writes all commands at once and reads all replies: one round trip. A transport error (not an
  // error reply) breaks the connection; the caller re-opens it.
  Status Pipeline(std::span<const Command> commands, std::vector<Reply>* replies);
  Result<Reply> Run(const Command& command);
  // Pipeline in two halves, for a caller that writes to several connections before it reads
  // from any: SendAll writes the commands, ReceiveAll reads `count` replies.
  Status SendAll(std::span<const Command> commands);
  Status ReceiveAll(size_t count, std::vector<Reply>* replies);

  // Sends a command without reading its reply (SUBSCRIBE; a pipeline the caller streams), and
  // reads one reply.
  Status Send(const Command& command);
  Result<Reply> Receive();
  // A reply already read or readable now, without blocking (nullopt: none yet); for a caller
  // that waits for the socket (fd()) with poll(). read_socket = false: only what was received
  // already, TLS records waiting decrypted included (no poll of its own, for a caller about to
  // poll the socket anyway: those would not make it readable).
  Result<std::optional<Reply>> ReceiveIfReady(bool read_socket = true);
  int fd() const;

  bool broken() const { return broken_; }
  // False when broken, or when a Sentinel endpoint's master has moved: asked of the sentinels at
  // most once a second (every 10 s while none answers), so a failover, even one that left the old
  // master up and writable for a while, moves the connection's user to the new master within
  // about a second. A READONLY reply (the server became a replica) also breaks the connection.
  bool CheckUsable();
  // How long until CheckUsable next asks the sentinels (zero if due; max() without Sentinel): a
  // connection that idles (a subscriber) checks at least that often.
  std::chrono::steady_clock::duration UntilMasterCheck() const;
  // Makes the connection unusable (CheckUsable() false): for a pipeline that stopped with a
  // reply still owed, which must not reach the next caller.
  void Abandon() { broken_ = true; }

 private:
  // Where a Sentinel endpoint's connection went, and when to ask the sentinels again.
  struct SentinelWatch {
    RedisEndpoint endpoint;
    std::string master_host;
    int master_port = 0;
    std::chrono::steady_clock::time_point next_check;
  };

  explicit RedisConnection(std::unique_ptr<RedisStream> stream);
  static Result<std::unique_ptr<RedisConnection>> OpenAt(const RedisEndpoint& target,
                                                         bool expect_master);
  // Adds the command to what Flush writes.
  void Append(const Command& command);
  Status Flush();
  enum class ReadMode {
    kWait,          // read until a whole reply is there
    kIfReadable,    // read what can be read without waiting
    kReceivedOnly,  // only what was received already (TLS records held by OpenSSL included)
  };
  // The next reply, parsed from what was received and what `mode` lets it read.
  Result<std::optional<Reply>> NextReply(ReadMode mode);
  // Wraps a reply the reader parsed; a READONLY error breaks the connection.
  Reply TakeReply(void* raw);
  // A transport failure: the connection is broken from now on.
  Status Broken(Status why);

  struct FreeReader {
    void operator()(redisReader* reader) const { redisReaderFree(reader); }
  };
  std::unique_ptr<RedisStream> stream_;
  std::unique_ptr<redisReader, FreeReader> reader_;
  std::string pending_;  // commands appended, not yet written
  bool broken_ = false;
  std::unique_ptr<SentinelWatch> sentinel_;  // null unless opened through Sentinel
};

}  // namespace taskq::broker
