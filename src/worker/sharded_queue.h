// The claim loops of one queue in a worker: one Processor per shard of the queue
// (broker::QueueLayout; docs/architecture.md, "Sharded queues"), sharing the queue's
// concurrency through a SlotPool. A queue not sharded has one loop, claiming from the queue's own
// keys. When the layout changes, the loops of the old one stop claiming, finish what runs and end,
// and loops for the new one start.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "taskq/status.h"
#include "worker/processor.h"
#include "worker/slot_pool.h"

namespace taskq::worker {

// Makes the loop of one shard: its tag, and (with several shards) the pool of the queue's
// slots it shares with the other shards' loops, as shard `index` (null: one shard, which has
// the queue's concurrency to itself).
using ShardLoopFactory = std::function<Result<std::unique_ptr<Processor>>(
    const std::string& shard_tag, std::shared_ptr<SlotPool> slot_pool, int32_t index)>;

class ShardedQueue {
 public:
  ShardedQueue(std::string queue, int32_t concurrency, ShardLoopFactory make_loop);
  ~ShardedQueue();  // Shutdown() if loops still run
  ShardedQueue(const ShardedQueue&) = delete;
  ShardedQueue& operator=(const ShardedQueue&) = delete;

  const std::string& queue() const { return queue_; }

  // Starts the loops of `tags` (shard 0 first) when they differ from the running ones; then the
  // old loops stop claiming and end, their running jobs given until `grace` passes (then handed
  // back). False: unchanged. One caller at a time.
  Result<bool> Apply(const std::vector<std::string>& tags, std::chrono::milliseconds grace);

  void StopClaiming();
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  // Ends every loop; returns how many jobs still ran (their leases handed back).
  int64_t Shutdown();

  std::vector<std::string> tags() const;
  Processor::Stats stats() const;  // over every loop this queue ever had
  int64_t running() const;
  std::vector<std::pair<std::string, int64_t>> DrainTimings();

 private:
  std::vector<Processor*> Loops() const;  // the current loops, read under mu_

  const std::string queue_;
  const int32_t concurrency_;
  const ShardLoopFactory make_loop_;
  mutable std::mutex mu_;
  std::vector<std::string> tags_;
  std::vector<std::unique_ptr<Processor>> loops_;
  // The loops of the layout before, while Apply ends them (only Apply touches their objects;
  // mu_ guards the vector).
  std::vector<std::unique_ptr<Processor>> retiring_;
  Processor::Stats ended_;  // the stats of loops already ended
};

}  // namespace taskq::worker
