// The randomized test of the balance of a sharded queue's concurrency (docs/limits.md, "Sharded
// queues"; share_move.lua): one queue of 2 to 4 shards with a concurrency limit, work enqueued
// unevenly, claims and completions on each shard, balances by three brokers, balances cut short
// between their lowering and their raising, stale balancers that read long ago, and limits set
// again, all against a real redis-server. What must hold is read from Redis after every step:
//   - every shard runs at most its share (meta.cc), unless the limits last set gave a shard less
//     than it ran then (until every shard is within its share again);
//   - the shards together run at most the queue's concurrency, unless it was lowered below what
//     ran (until they run no more than it again);
//   - the shares add up to at most the concurrency (meta.cct), every share is at least 1, and
//     every shard holds the generation (meta.lg) the limits were last set with;
//   - a claim on a shard takes exactly what its share leaves room for (and there is to take);
//   - a balance never lowers a share below the jobs active on its shard, and afterwards the
//     shares add up to the concurrency (what a cut-short balance freed is handed out);
//   - a lowering cut short frees exactly what its share had beyond its active jobs (at least 1);
//   - a stale balancer's move is refused (FENCED or LIMITS), writing nothing, whenever a newer
//     balance read the shards or the limits were set since its read;
//   - limits set with the same concurrency keep the shares; a new one splits it by the work;
//   - after the drain every job enqueued is completed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "broker/redis_connection.h"
#include "shard_run.h"
#include "testing/redis_server.h"

namespace taskq::model {

// failed_at_step is -1 for the setup, max_steps for the drain; counts has the steps by kind and
// what they did ("stale_move:refused", "set_limits:below_running", ...).
using BalanceRunResult = ShardRunResult;

class BalanceRun {
 public:
  explicit BalanceRun(testing::RedisServer& server);

  // One episode of `max_steps` random steps from `seed`, then the drain.
  BalanceRunResult RunEpisode(uint64_t seed, int max_steps);

 private:
  // One shard as Redis holds it.
  struct ShardState {
    int64_t share = 0;  // meta.cc
    int64_t total = 0;  // meta.cct
    std::string generation;
    int64_t fence = 0;  // meta.cbt
    int64_t active = 0;
    int64_t waiting = 0;
  };
  struct HeldLease {
    size_t shard = 0;
    broker::Lease lease;
  };
  // A balancer that read the shards and has not moved yet (or moved part of what it means to).
  struct StaleBalancer {
    int64_t token = 0;
    std::vector<std::string> generations;  // as read on each shard
    int64_t freed = 0;                     // given and not yet taken
  };
  struct MoveReply {
    bool refused = false;
    std::string error;  // refused: the error reply
    int64_t value = 0;  // give: the amount taken off; take: the new share
  };

  std::string Step(const std::string& kind, std::mt19937_64& rng,
                   std::map<std::string, int64_t>* counts);
  std::string Enqueue(std::mt19937_64& rng);
  std::string Claim(size_t shard, int32_t max_jobs);
  std::string Complete(size_t at);
  std::string Balance(broker::Broker& by, const std::string& who);
  // A fresh token and a read of every shard through share_move.lua, each read checked.
  std::string ReadAll(int64_t* token, std::vector<std::string>* generations);
  std::string InterruptedBalance(std::mt19937_64& rng);
  std::string StaleRead();
  std::string StaleMove(std::mt19937_64& rng, std::map<std::string, int64_t>* counts);
  std::string SetLimits(int64_t concurrency, std::map<std::string, int64_t>* counts);
  std::string CheckAlways();
  std::string Drain();
  std::string Trace() const;

  broker::Reply ShareMove(size_t shard, const std::string& mode, int64_t token,
                          const std::string& generation, int64_t amount);
  MoveReply Move(size_t shard, const std::string& mode, int64_t token,
                 const std::string& generation, int64_t amount);
  std::vector<ShardState> ReadShards();
  // One field of every shard, "[a b c]".
  static std::string Column(int64_t ShardState::*field, const std::vector<ShardState>& shards);
  static std::string SharesOf(const std::vector<ShardState>& shards);
  static std::string ActiveOf(const std::vector<ShardState>& shards);
  static int64_t Occupied(const std::vector<ShardState>& shards);
  int64_t ActiveTotal() const;
  int64_t WaitingOn(size_t shard) const;

  testing::RedisServer& server_;
  std::unique_ptr<broker::RedisConnection> redis_;  // for pipelines; single commands: server_
  // brokers_[0] also sets the layout and the limits, enqueues, claims and completes; each of
  // the three balances on its own connection, taking its own tokens.
  std::vector<std::unique_ptr<broker::Broker>> brokers_;

  // The model.
  std::string queue_;
  broker::QueueLayout layout_;
  int64_t concurrency_ = 0;
  std::string generation_;  // the limits' generation, as the last SetLimits wrote it
  int64_t tokens_ = 0;      // balance tokens taken (the home shard's meta.cbn)
  // The limits last set gave some shard less than it ran: shards may run above their shares
  // until every one is within its share again.
  bool over_shares_ = false;
  // The concurrency was lowered below what ran: the shards together may run more than it until
  // they run no more than it.
  bool over_limit_ = false;
  std::vector<std::vector<std::string>> waiting_;  // per shard, the ids waiting
  std::vector<HeldLease> leases_;
  std::map<std::string, size_t> enqueued_;  // id -> its shard
  std::optional<StaleBalancer> stale_;
  size_t busy_shard_ = 0;  // where most work goes, for a while
  std::vector<std::string> trace_;
};

}  // namespace taskq::model
