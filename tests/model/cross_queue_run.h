// The randomized test of flows across queues (docs/workflows.md, "Flows across queues";
// docs/reliability.md): flows over three queues, workers' steps in each queue, retries from dead
// and cancels, and relays that apply entries, die before deleting them, or apply again entries
// applied before, all through the real broker against a real redis-server. No reference model of
// each step: what must hold is checked from Redis after every step and after a drain:
//   - a parent starts only once each of its children has completed or died, now or at some
//     step before, and no more often than it was retried plus one. A retry makes its job and
//     every job above it count as finished before: the home may count a death that a retry
//     undoes in either order (each report crosses a relay), and a parent released on that death
//     never waits again;
//   - every join's counts add up to its children, and no job is in two queues;
//   - applying again an entry applied before changes nothing in Redis;
//   - after the drain (relays and workers until nothing moves): no job held, every outbox
//     empty, every flow finished, and each parent's join counts exactly what its children
//     became (completed, or dead by policy), with none pending.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "broker/broker.h"
#include "broker/redis_connection.h"
#include "testing/redis_server.h"

namespace taskq::model {

struct CrossQueueResult {
  bool failed = false;
  int failed_at_step = -1;  // the drain is step max_steps
  std::string message;      // with the trace of the episode's last steps
  int64_t steps = 0;
  std::map<std::string, int64_t> counts;  // steps run, by kind
};

class CrossQueueRun {
 public:
  explicit CrossQueueRun(testing::RedisServer& server);

  // One episode of `max_steps` random steps from `seed`, then the drain.
  CrossQueueResult RunEpisode(uint64_t seed, int max_steps);

 private:
  struct JobInfo {
    std::string queue;  // where it runs
    std::string home;   // its flow's queue (the root's)
    std::string flow_key;
    std::string ref;
    std::string parent_id;  // empty for the root
    std::string policy;
    std::vector<std::string> children;
    int runs = 0;
    int allowed_runs = 1;        // one, and one more per retry from dead
    bool finished_once = false;  // it completed or died at least once
  };
  // A run of flow entries applied once, kept to be applied again.
  struct AppliedRun {
    std::string target, source;
    std::vector<broker::OutboxEntry> entries;
  };

  std::string Step(const std::string& kind, std::mt19937_64& rng);
  std::string Submit(std::mt19937_64& rng);
  std::string Work(std::mt19937_64& rng, const std::string& queue, bool all_complete, int* claimed);
  std::string Retry(std::mt19937_64& rng);
  std::string Cancel(std::mt19937_64& rng);
  std::string Relay(const std::string& queue);
  std::string RelayCrash(std::mt19937_64& rng);
  std::string Replay(std::mt19937_64& rng);
  std::string CheckAlways();
  std::string Trace() const;
  std::string Drain();

  // Where the job is now, and its state: its own queue, else its flow's (a parked parent).
  std::optional<std::pair<std::string, JobState>> Locate(const std::string& id);
  std::map<std::string, std::string> Record(const std::string& home, const std::string& key);
  std::vector<std::pair<std::string, std::string>> Snapshot();
  broker::Reply Redis(const broker::Command& command);

  testing::RedisServer& server_;
  std::unique_ptr<broker::RedisConnection> redis_;
  std::unique_ptr<broker::Broker> broker_;
  std::map<std::string, JobInfo> jobs_;
  std::vector<std::pair<std::string, std::string>> flows_;  // home, key
  std::vector<AppliedRun> applied_;
  std::vector<std::string> trace_;  // what the episode's steps did, for a failure's message
  int next_flow_ = 0;
  int crashes_ = 0;
};

}  // namespace taskq::model
