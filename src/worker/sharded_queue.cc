#include "worker/sharded_queue.h"

#include <algorithm>

namespace taskq::worker {
namespace {

void Add(Processor::Stats& into, const Processor::Stats& s) {
  into.claimed += s.claimed;
  into.completed += s.completed;
  into.failed += s.failed;
  into.rejected += s.rejected;
  into.round_trips += s.round_trips;
  into.postponed += s.postponed;
}

}  // namespace

ShardedQueue::ShardedQueue(std::string queue, int32_t concurrency, ShardLoopFactory make_loop)
    : queue_(std::move(queue)), concurrency_(concurrency), make_loop_(std::move(make_loop)) {}

ShardedQueue::~ShardedQueue() { Shutdown(); }

Result<bool> ShardedQueue::Apply(const std::vector<std::string>& tags,
                                 std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (tags == tags_ && !loops_.empty()) return false;
  }
  // Every new loop is made before an old one stops, so a failure leaves the queue as it was.
  std::vector<std::unique_ptr<Processor>> loops;
  const auto shards = static_cast<int32_t>(tags.size());
  auto pool = shards > 1 ? std::make_shared<SlotPool>(concurrency_, shards) : nullptr;
  for (int32_t i = 0; i < shards; ++i) {
    auto loop = make_loop_(tags[static_cast<size_t>(i)], pool, i);
    if (!loop.ok()) return loop.status();
    if (pool) pool->SetWaker(i, [processor = loop->get()] { processor->Wake(); });
    loops.push_back(std::move(*loop));
  }
  // The old loops end outside mu_ (their jobs may take the grace period), still counted by
  // stats() and running() meanwhile as retiring_.
  {
    std::lock_guard lock(mu_);
    retiring_ = std::move(loops_);
    loops_ = std::move(loops);
    tags_ = tags;
    for (auto& old : retiring_) old->StopClaiming();
    for (auto& loop : loops_) loop->Start();
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& old : retiring_) old->WaitIdle(deadline);
  for (auto& old : retiring_) old->Shutdown();
  std::lock_guard lock(mu_);
  for (auto& old : retiring_) Add(ended_, old->stats());
  retiring_.clear();
  return true;
}

void ShardedQueue::StopClaiming() {
  std::lock_guard lock(mu_);
  for (auto& loop : loops_) loop->StopClaiming();
}

std::vector<Processor*> ShardedQueue::Loops() const {
  std::lock_guard lock(mu_);
  std::vector<Processor*> out;
  for (const auto& loop : loops_) out.push_back(loop.get());
  return out;
}

// The waits below hold no lock: the heartbeat reads running() and stats() meanwhile, and only
// Apply, which the worker no longer calls once it stops, replaces the loops.
bool ShardedQueue::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  bool idle = true;
  for (Processor* loop : Loops()) idle = loop->WaitIdle(deadline) && idle;
  return idle;
}

int64_t ShardedQueue::Shutdown() {
  int64_t stuck = 0;
  for (Processor* loop : Loops()) {
    stuck += loop->running();
    loop->Shutdown();
  }
  return stuck;
}

std::vector<std::string> ShardedQueue::tags() const {
  std::lock_guard lock(mu_);
  return tags_;
}

Processor::Stats ShardedQueue::stats() const {
  std::lock_guard lock(mu_);
  Processor::Stats out = ended_;
  for (const auto& loop : loops_) Add(out, loop->stats());
  for (const auto& loop : retiring_) Add(out, loop->stats());
  return out;
}

int64_t ShardedQueue::running() const {
  std::lock_guard lock(mu_);
  int64_t out = 0;
  for (const auto& loop : loops_) out += loop->running();
  for (const auto& loop : retiring_) out += loop->running();
  return out;
}

std::vector<std::pair<std::string, int64_t>> ShardedQueue::DrainTimings() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, int64_t>> out;
  for (auto& loop : loops_) {
    for (auto& timing : loop->DrainTimings()) out.push_back(std::move(timing));
  }
  return out;
}

}  // namespace taskq::worker
