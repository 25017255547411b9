// The redis-server that `taskq up` starts and supervises when no Redis is configured: AOF on (every
// acknowledged job survives a crash of Redis), bound to loopback, restarted if it dies, stopped
// cleanly (SHUTDOWN, which flushes the AOF) when taskq exits.
//
// Other local users must not read payloads or FLUSHALL it: it requires a password, generated on
// first start into DATA/password (mode 0600, in a 0700 directory) and handed to redis-server in a
// 0600 config file, never on a command line. Before a restart the port is checked: if another
// process took it while Redis was down, taskq stops rather than send the password there.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "taskq/status.h"

namespace taskq::bin {

struct ManagedRedisOptions {
  std::filesystem::path data_dir = "data/redis";
  int port = 6379;
  std::string redis_server = "redis-server";
};

class ManagedRedis {
 public:
  explicit ManagedRedis(ManagedRedisOptions options) : options_(std::move(options)) {}
  ~ManagedRedis();
  ManagedRedis(const ManagedRedis&) = delete;
  ManagedRedis& operator=(const ManagedRedis&) = delete;

  // Reads (or on first start makes) the password, starts redis-server and waits until it answers
  // PING (up to 10 s). Fails when the port is already in use.
  Status Start();
  // Asks Redis to shut down (saving nothing but flushing the AOF) and waits for it.
  void Stop();
  // With the password: for taskq's own connections only (logs mask it).
  std::string url() const {
    return "redis://:" + password_ + "@127.0.0.1:" + std::to_string(options_.port);
  }

 private:
  Status Spawn();
  void Supervise();

  const ManagedRedisOptions options_;
  std::string password_;  // set by Start
  std::mutex mu_;
  pid_t pid_ = -1;  // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::thread supervisor_;
};

// The URL of a Redis on 127.0.0.1:`port`, with the managed Redis' password when `data_dir`
// (as --data-dir) holds one: how the other commands (`taskq stats`, ...) reach the Redis of a
// `taskq up` running in the same directory without a --redis-url.
std::string LocalRedisUrl(const std::string& data_dir, int port = 6379);

}  // namespace taskq::bin
