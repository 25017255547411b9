// A Redis Cluster of masters only, each a RedisProcess, for w2_cluster (bench/README.md): made
// with `redis-cli --cluster create`, so that master i serves the i-th of equal slot ranges.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "redis_process.h"

namespace taskq::bench {

class RedisClusterProcesses {
 public:
  explicit RedisClusterProcesses(int masters);

  bool ok() const { return ok_; }
  // redis+cluster:// naming every master.
  std::string url() const;
  const std::vector<std::unique_ptr<RedisProcess>>& masters() const { return masters_; }
  void FlushAll();
  // The masters' main-thread CPU seconds, each.
  std::vector<double> MainThreadCpuSeconds() const;
  // The master serving the slot of `key` (CLUSTER KEYSLOT, and the ranges create gave).
  int MasterOf(const std::string& key) const;

 private:
  std::vector<std::unique_ptr<RedisProcess>> masters_;
  bool ok_ = false;
};

}  // namespace taskq::bench
