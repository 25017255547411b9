// The randomized model test's driver: random sequences of every state-changing operation, run
// against a real redis-server through the real broker and against the reference model
// (queue_model.h), with every invariant checked after every step, and failing sequences shrunk.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "broker/broker.h"
#include "broker/keys.h"
#include "flow_model.h"
#include "queue_model.h"
#include "testing/redis_server.h"

namespace taskq::model {

// Leases expire only when a step says so (kExpireAndRecover, kLostClaim, kOverrun).
constexpr auto kLease = std::chrono::hours(1);

// One of items, chosen by a step's random number.
template <typename T>
const T& Pick(const std::vector<T>& items, uint64_t r) {
  return items[r % items.size()];
}

enum class OpKind {
  kEnqueue,
  kEnqueueBulk,
  kEnqueueUnique,
  kClaim,
  kComplete,
  kFail,
  kPostpone,
  kProgress,
  kExtend,
  kExpireAndRecover,
  kRelease,
  kCancel,
  kRemove,
  kRetryDead,
  kRetryOldestDead,
  kPromote,
  kMakeDue,
  kPause,
  kResume,
  kClean,
  kSetLimits,
  kInvalidCall,
  kLargestBatches,
  kLostClaim,
  kOverrun,
  kRelay,       // relays the outbox (worker/callback_relay.h)
  kRelayCrash,  // applies some outbox entries and dies before deleting them
  kPauseAll,    // every queue of the registry
  kResumeAll,
  kListPage,     // one page of a listing of a sorted-set state by cursor; other steps run between
  kSubmitFlow,   // a flow (flow_commit.lua): a random tree of jobs, parents held
  kSubmitBatch,  // a batch (batch_commit.lua): members queued, callbacks held
  kBatchAdd,     // an addition to a batch
  kBatchClose,
  kBatchCancel,
  kCount,
};
const char* OpName(OpKind kind);

// One step: its kind and random numbers that pick its jobs and options from the state it meets,
// so that a shortened sequence still means something.
struct Op {
  OpKind kind = OpKind::kClaim;
  std::array<uint64_t, 4> r{};
};

struct EpisodeOptions {
  uint64_t seed = 1;
  int max_steps = 300;
  // Start the queue's priority sequences this close to their bound (0: at 0), so that a run
  // crosses it (requeue.lua renumbers there).
  int64_t start_sequences_below_bound = 0;
};

struct EpisodeResult {
  bool failed = false;
  int failed_at_step = -1;  // 0-based
  std::string message;
  std::vector<Op> ops;  // the steps run, the failing one last
  std::array<int64_t, static_cast<size_t>(OpKind::kCount)> counts{};
};

class ModelRun {
 public:
  explicit ModelRun(testing::RedisServer& server);
  ~ModelRun();

  // Random steps from the seed until a check fails or max_steps ran, then a drain (every job
  // that can still run must run).
  EpisodeResult RunEpisode(const EpisodeOptions& options);
  // The same steps again from an empty database; "" when no check fails.
  std::string Replay(const EpisodeOptions& options, const std::vector<Op>& ops);
  // The shortest sequence found (by removing steps) that still fails.
  std::vector<Op> Shrink(const EpisodeOptions& options, std::vector<Op> ops);

 private:
  // One queue: the model and the keys of what Redis holds for it.
  struct Queue {
    explicit Queue(const std::string& name) : model(name), keys("taskq", name) {}
    QueueModel model;
    broker::QueueKeys keys;
    std::vector<std::pair<int64_t, int64_t>> starts;  // (Redis ms, jobs) since the limits changed
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> group_starts;
    broker::FinishPolicy Policy(int64_t keep_completed, int64_t keep_dead) const {
      broker::FinishPolicy policy;
      policy.keep_completed = Retention{keep_completed, std::chrono::milliseconds(0)};
      policy.keep_dead = Retention{keep_dead, std::chrono::milliseconds(0)};
      return policy;
    }
  };
  void Reset(const EpisodeOptions& options);
  Op Generate(std::mt19937_64& rng);
  std::string Apply(const Op& op);
  std::string Check(Queue& q);
  std::string CheckAll();
  std::string Drain();

  // Operations; each returns "" or what went wrong.
  std::string DoEnqueue(Queue& q, const std::vector<broker::NewJob>& jobs);
  // With a receipt, claims through Flush with that claim receipt (claim.lua's ARGV[5]).
  std::string DoClaim(Queue& q, int n, std::vector<std::string>* claimed = nullptr,
                      const std::string& receipt = "");
  int64_t receipts_ = 0;
  static int64_t ModelRelease(QueueModel& m, const std::vector<broker::Lease>& leases);
  std::string DoComplete(Queue& q, const std::vector<broker::Lease>& leases, int64_t keep);
  std::string DoFail(Queue& q, const std::vector<broker::Lease>& leases,
                     const std::vector<int64_t>& delays, int64_t keep);
  std::string DoRecover(Queue& q, const std::vector<std::string>& ids, int max_stalls);
  std::string DoRetryDead(Queue& q, const std::vector<std::string>& ids);
  // What retry_dead.lua does to the model: returns the number of jobs it moves.
  static int64_t ModelRetryDead(QueueModel& m, const std::vector<std::string>& ids);
  std::string DoSubmitFlow(uint64_t r);
  // Every flow's record, joins and children's outcomes, against the model.
  std::string CheckFlows(Queue& q);
  int64_t next_flow_ = 0;
  std::string DoSubmitBatch(uint64_t r);
  std::string DoBatchAdd(uint64_t r);
  std::string DoBatchClose(const std::string& key);
  std::string DoBatchCancel(const std::string& key);
  std::string PickBatch(std::mt19937_64& rng);
  // plain: priority 0, no delay, no group, FIFO, no callback (batch_commit.lua's common path).
  static broker::NewJob BatchJob(const std::string& id, std::mt19937_64& rng, bool callback,
                                 bool plain);
  static void ModelBatchJobs(QueueModel& m, const std::string& key, const std::string& gen,
                             const std::vector<std::pair<std::string, broker::NewJob>>& jobs);
  // A batch's record beyond its join (open, oc, sd) and the counts its callbacks were released
  // with, against the model.
  std::string CheckBatch(Queue& q, const std::string& key, const Flow& flow,
                         std::map<std::string, std::string>& record);
  std::string DoLargestBatches();
  std::string DoInvalidCall(uint64_t r);
  std::string DoRelay(uint64_t r, bool crash);
  // Every finish of a hooked job is an outbox entry or a webhook job in the callback queue
  // (one per entry, however often it was applied), and nothing else is.
  std::string CheckCallbacks();

  // A listing in progress (kListPage), page by page with other steps between. A job in the state
  // with the same sort key from the first page to the last must be listed exactly once, and
  // every page must continue the order where the previous one stopped.
  struct Listing {
    JobState state = JobState::kDelayed;
    ListOrder order = ListOrder::kDefault;
    bool descending = false;
    int64_t limit = 1;
    JobCursor next;
    std::map<std::string, std::string> stayed;  // id -> score, as at the listing's start
    std::map<std::string, int> seen;
    std::optional<std::pair<double, std::string>> last;  // the last key listed
  };
  std::optional<Listing> listing_;
  std::string DoListPage(uint64_t r);
  // Drops from the listing's `stayed` the jobs that left its state or got another score.
  void TrackListing();
  std::map<std::string, std::string> Scores(JobState state);

  std::vector<broker::Lease> PickLeases(Queue& q, uint64_t r, bool allow_stale);
  std::vector<std::string> PickIds(Queue& q, uint64_t r, St st, size_t max);
  std::string ReconcileFinished(Queue& q, St st, int64_t keep, bool applied);
  broker::Reply Redis(const broker::Command& command);
  std::vector<std::string> Strings(const broker::Command& command);

  testing::RedisServer& server_;
  std::unique_ptr<broker::RedisConnection> redis_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<Queue> main_, bulk_;
  std::unique_ptr<broker::QueueKeys> callback_keys_;  // the callback queue "c"
  int64_t crashed_relays_ = 0;
  int64_t next_id_ = 0;
  int64_t due_counter_ = 0;
};

}  // namespace taskq::model
