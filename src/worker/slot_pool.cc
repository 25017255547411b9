#include "worker/slot_pool.h"

#include <algorithm>
#include <numeric>

namespace taskq::worker {

SlotPool::SlotPool(int32_t slots, int32_t shards)
    : slots_(std::max(slots, 1)),
      held_(static_cast<size_t>(std::max(shards, 1)), 0),
      wanting_(held_.size(), false),
      wakers_(held_.size()),
      served_(held_.size(), 0) {}

int32_t SlotPool::FairShare() const {
  int32_t in_use = 0;
  for (size_t i = 0; i < held_.size(); ++i) {
    if (held_[i] > 0 || wanting_[i]) ++in_use;
  }
  in_use = std::max(in_use, 1);
  return (slots_ + in_use - 1) / in_use;
}

int32_t SlotPool::Take(int32_t shard, int32_t busy, int32_t wanted) {
  std::unique_lock lock(mu_);
  const auto i = static_cast<size_t>(shard);
  const bool freed = busy < held_[i];
  const bool was_wanting = wanting_[i];
  held_[i] = std::max(busy, 0);
  const int32_t used = std::accumulate(held_.begin(), held_.end(), 0);
  const int32_t free = std::max(slots_ - used, 0);
  int32_t grant = std::min(std::max(wanted, 0), free);
  bool others_wait = false;
  for (size_t j = 0; j < wanting_.size(); ++j) {
    if (j == i || !wanting_[j]) continue;
    others_wait = true;
    // A waiting shard holding fewer slots, or as many and served longer ago, goes first.
    if (held_[j] < held_[i] || (held_[j] == held_[i] && served_[j] < served_[i])) grant = 0;
  }
  wanting_[i] = wanted > 0;
  if (others_wait) grant = std::min(grant, std::max(FairShare() - held_[i], 0));
  held_[i] += grant;
  wanting_[i] = grant < wanted;
  if (grant > 0) served_[i] = ++clock_;
  // Slots are left free (this shard took its share, or freed some), or this shard stopped
  // waiting (others may then take more than a share): the waiting shards look again.
  const bool left_free = used + grant < slots_;
  if ((left_free || freed || (was_wanting && !wanting_[i])) && others_wait) {
    WakeWaiting(lock, shard);
  }
  return grant;
}

void SlotPool::Return(int32_t shard, int32_t unused) {
  if (unused <= 0) return;
  std::unique_lock lock(mu_);
  held_[static_cast<size_t>(shard)] = std::max(held_[static_cast<size_t>(shard)] - unused, 0);
  WakeWaiting(lock, shard);
}

void SlotPool::SetWaker(int32_t shard, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wakers_[static_cast<size_t>(shard)] = std::move(wake);
}

int32_t SlotPool::held(int32_t shard) const {
  std::lock_guard lock(mu_);
  return held_[static_cast<size_t>(shard)];
}

void SlotPool::WakeWaiting(std::unique_lock<std::mutex>& lock, int32_t except) {
  const int32_t share = FairShare();
  std::vector<std::function<void()>> below, above;
  for (size_t j = 0; j < wanting_.size(); ++j) {
    if (static_cast<int32_t>(j) == except || !wanting_[j] || !wakers_[j]) continue;
    (held_[j] < share ? below : above).push_back(wakers_[j]);
  }
  lock.unlock();
  for (const auto& wake : below) wake();
  for (const auto& wake : above) wake();
}

}  // namespace taskq::worker
