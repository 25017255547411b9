// The randomized test of sharded queues (docs/architecture.md and docs/redis-keys.md, "Sharded
// queues"): one queue whose number of shards changes now and then, producers that each keep the
// layout they last placed by (so some place by a stale one), workers that claim and finish on
// each shard, removals, retries from dead and cleaning, all through the real broker against a
// real redis-server. A model of the queue says where every job must be and in what state; what
// must hold is checked from Redis after every step:
//   - every job lives on exactly one shard, among the shards of this and earlier layouts: the
//     shard PlacementShard(group, else unique key, else id) of the layout it was created under,
//     and no other job is on any shard;
//   - a unique key is held on at most one shard, by its holder, on the key's shard;
//   - every shard of the layout has the home shard's version (meta.sv), and the layout read at
//     home is the model's;
//   - Counts adds up every shard's keys and agrees with the model; GetJob finds every job, in
//     the state the model expects, and none of the jobs removed;
//   - a change of layout succeeds exactly when no shard holds any job (completed and dead ones
//     included); refused, it leaves the layout as it was;
//   - every enqueue succeeds (a stale producer is refused by the shards and places again), with
//     the outcome the model expects (created, existed, or the unique key's holder);
//   - after the drain (every dead job retried, every delayed one promoted, every job claimed
//     and completed on its shard), every job created is completed or was removed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "broker/redis_connection.h"
#include "testing/redis_server.h"

namespace taskq::model {

struct ShardRunResult {
  bool failed = false;
  int failed_at_step = -1;  // the drain is step max_steps
  std::string message;      // with the trace of the episode's last steps
  int64_t steps = 0;
  // Steps run, by kind; and "set_shards:changed", "set_shards:refused", "set_shards:same" for
  // what the changes of layout did.
  std::map<std::string, int64_t> counts;
};

class ShardRun {
 public:
  explicit ShardRun(testing::RedisServer& server);

  // One episode of `max_steps` random steps from `seed`, then the drain.
  ShardRunResult RunEpisode(uint64_t seed, int max_steps);

 private:
  enum class State { kWaiting, kDelayed, kRetrying, kActive, kCompleted, kDead };

  // What the model knows of one job that exists.
  struct JobInfo {
    broker::NewJob spec;                   // as first enqueued: a repeat of its id sends it again
    std::string tag;                       // the shard it was placed on
    std::vector<std::string> layout_tags;  // the layout it was placed by
    State state = State::kWaiting;
    bool holds_key = false;  // it holds its unique key (until_completed)
  };
  struct HeldLease {
    std::string tag;
    broker::Lease lease;
  };

  std::string Step(const std::string& kind, std::mt19937_64& rng,
                   std::map<std::string, int64_t>* counts);
  std::string WhyRefused() const;
  std::string SetShards(std::mt19937_64& rng, std::map<std::string, int64_t>* counts);
  std::string Enqueue(std::mt19937_64& rng, int count);
  std::string Claim(const std::string& tag, int32_t max_jobs, int* claimed);
  std::string Finish(std::mt19937_64& rng, bool all_complete);
  std::string Remove(std::mt19937_64& rng);
  std::string RetryDead(std::mt19937_64& rng);
  std::string Promote(std::mt19937_64& rng);
  std::string Clean(JobState state);
  // Finishes every held lease, promotes every delayed job and claims and completes until no job
  // waits or retries; `retry_dead` first retries every dead job.
  std::string Settle(bool retry_dead);
  std::string CheckAlways();
  std::string CheckPlacement();
  std::string CheckCounts();
  std::string CheckJobs();
  std::string Drain();
  std::string Trace() const;

  static const char* StateName(State state);
  broker::NewJob RandomJob(std::mt19937_64& rng, const std::string& id);
  // The shard a job goes to under the model's layout.
  std::string PlacedTag(const broker::NewJob& job) const;
  int64_t CountIn(State state) const;
  bool Live(const JobInfo& job) const;
  broker::Reply Redis(const broker::Command& command);
  std::vector<broker::Reply> Pipeline(const std::vector<broker::Command>& commands);

  testing::RedisServer& server_;
  std::unique_ptr<broker::RedisConnection> redis_;
  // admin_ changes layouts now and then, reads (it reads the layout anew before every check),
  // acts on jobs by id and works the shards; producers_ enqueue and change layouts, each placing
  // by the layout it last read.
  std::unique_ptr<broker::Broker> admin_;
  std::vector<std::unique_ptr<broker::Broker>> producers_;

  // The model.
  std::vector<std::string> tags_;  // the layout: shard i's tag
  int64_t version_ = 0;
  std::set<std::string> every_tag_;  // of this and every earlier layout
  std::map<std::string, JobInfo> jobs_;
  std::set<std::string> gone_;  // ids of jobs removed or cleaned (not created again)
  std::map<std::string, std::string> holders_;  // unique key -> the id holding it
  std::map<std::string, int64_t> created_on_;   // tag -> jobs created there (meta.enqueued)
  std::vector<HeldLease> leases_;               // claimed and not yet finished
  std::vector<std::string> trace_;              // what the episode's steps did
  int next_id_ = 0;
};

}  // namespace taskq::model
