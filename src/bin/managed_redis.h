// The redis-server that `taskq up` starts and supervises when no Redis is configured: AOF on (every
// acknowledged job survives a crash of Redis), bound to loopback, restarted if it dies, stopped
// cleanly (SHUTDOWN, which flushes the AOF) when taskq exits.
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

  // Starts redis-server and waits until it answers PING (up to 10 s).
  Status Start();
  // Asks Redis to shut down (saving nothing but flushing the AOF) and waits for it.
  void Stop();
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(options_.port); }

 private:
  Status Spawn();
  void Supervise();

  const ManagedRedisOptions options_;
  std::mutex mu_;
  pid_t pid_ = -1;  // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::thread supervisor_;
};

}  // namespace taskq::bin
