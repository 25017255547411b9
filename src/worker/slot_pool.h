// The slots (concurrency) of one queue shared by the claim loops of its shards
// (docs/architecture.md, "Sharded queues"): a busy shard may use every slot while the others are
// idle, and shards that all have work converge to equal shares, so that no shard starves and
// none holds slots it cannot fill. Thread-safe; each loop calls it from its own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace taskq::worker {

class SlotPool {
 public:
  SlotPool(int32_t slots, int32_t shards);

  // Called by shard `shard`'s loop before a claim: its jobs hold `busy` slots now, and it would
  // claim up to `wanted` more. Returns how many it may claim (0..wanted), counted as held until
  // Return gives back what the claim did not fill. While other shards wait for slots, a shard
  // gets some only when none of them holds fewer (or as many, served longer ago), and never beyond
  // its fair share (slots / shards wanting or holding some, rounded up); a shard left wanting is
  // woken (SetWaker) when slots come free or a shard stops waiting.
  int32_t Take(int32_t shard, int32_t busy, int32_t wanted);
  // What the claim after Take did not fill (its round trip failed: all of it).
  void Return(int32_t shard, int32_t unused);
  // How a loop is woken when slots it waited for came free.
  void SetWaker(int32_t shard, std::function<void()> wake);

  int32_t held(int32_t shard) const;

 private:
  // Wakes the shards that wait, those below their share first. mu_ released by the caller.
  void WakeWaiting(std::unique_lock<std::mutex>& lock, int32_t except);
  int32_t FairShare() const;  // mu_ held

  const int32_t slots_;
  mutable std::mutex mu_;
  std::vector<int32_t> held_;
  std::vector<bool> wanting_;
  std::vector<std::function<void()>> wakers_;
  std::vector<uint64_t> served_;  // when each shard was last granted slots (clock_; 0: never)
  uint64_t clock_ = 0;
};

}  // namespace taskq::worker
