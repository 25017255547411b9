// The broker: every state transition of a job, one method each, and each one atomic (one Lua script
// in Redis). The rest of taskq sees Redis only through this interface, so a test can wrap it to
// inject faults. Not thread-safe: each thread that needs one opens its own (see OpenBroker).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "taskq/batch_view.h"
#include "taskq/flow_view.h"
#include "taskq/job.h"
#include "taskq/job_cursor.h"
#include "taskq/job_event.h"
#include "taskq/queue_counts.h"
#include "taskq/queue_history.h"
#include "taskq/queue_limits.h"
#include "taskq/queue_shards.h"
#include "taskq/status.h"

namespace taskq::broker {

struct NewJob {
  std::string id;
  std::string body;  // JSON object made by job_codec (without "c", which Redis adds)
  int32_t priority = 0;
  int64_t delay_ms = 0;
  int64_t run_at_ms = -1;  // >= 0: absolute due time (Unix ms), wins over delay_ms
  std::string group;       // empty: none (or the queue's group field decides)
  // A unique job, with its key (derived by the client when not given).
  std::optional<UniqueOptions> unique;
  // Its completion or death appends an entry to the queue's outbox (a completion callback:
  // hooks.lua), which a relay turns into a webhook job.
  bool hooked = false;
  // Queued at the head of its priority when it is created waiting (EnqueueOptions::lifo).
  bool lifo = false;
};

// An entry of a queue's outbox (hooks.lua): written by the script that finished a job, read by
// a relay (outbox_take.lua), deleted once applied (outbox_ack.lua).
// A page of one state's jobs, in the listing's order.
struct JobListing {
  // One entry per id the range read; empty where the job went away between the range read and
  // the read of the job (so a caller can tell the state's end from removed jobs).
  std::vector<std::optional<Job>> jobs;
  std::vector<JobCursor> after;  // after[i] resumes right after jobs[i]
};

struct OutboxEntry {
  std::string id;                                           // the stream id, "<ms>-<seq>"
  std::vector<std::pair<std::string, std::string>> fields;  // as written, in order
  // The value of `name`, or nullptr.
  const std::string* Field(std::string_view name) const {
    for (const auto& [key, value] : fields) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

// The entries of flows across queues (flows.lua): dispatches ("fd") and cancels ("fx") of a
// flow's jobs, for the job's queue, and reports ("ff" a finish, "fr" a retry from dead) of a
// job to its flow's queue. Field "q" names the queue each is for.
enum class FlowEntryClass { kNone, kDelivery, kReport };
inline FlowEntryClass FlowEntryClassOf(const OutboxEntry& entry) {
  const std::string* kind = entry.Field("k");
  if (kind == nullptr) return FlowEntryClass::kNone;
  if (*kind == "fd" || *kind == "fx") return FlowEntryClass::kDelivery;
  if (*kind == "ff" || *kind == "fr") return FlowEntryClass::kReport;
  return FlowEntryClass::kNone;
}

// The shards of a queue (docs/architecture.md, "Sharded queues"): one logical queue spread over
// hash tags, so that a Redis Cluster serves it from several masters. Shard 0's tag is the
// queue's name (an unsharded queue is one shard, and its keys are those it always had).
struct QueueLayout {
  std::vector<std::string> tags;  // shard i's hash tag; never empty
  int64_t version = 0;            // grows with every change; 0: never sharded
  int32_t shards() const { return static_cast<int32_t>(tags.size()); }
};

enum class EnqueueOutcome { kExisted = 0, kWaiting = 1, kDelayed = 2, kUniqueHeld = 3 };

struct EnqueueReply {
  EnqueueOutcome outcome = EnqueueOutcome::kExisted;
  std::string holder_id;  // kUniqueHeld: the job holding the unique key (nothing was created)
};

// Jobs for one queue, as one atomic enqueue (Broker::EnqueueBatches).
struct QueueBatch {
  std::string queue;
  std::span<const NewJob> jobs;
};

struct ClaimedJob {
  std::string id;
  std::string body;  // as stored, with "c"; empty if the body key vanished
  int32_t attempt = 0;
  int64_t token = 0;
  // It started before without using up the attempt (released, postponed, retried from dead):
  // its wait since due was counted already.
  bool restarted = false;
};

struct ClaimResult {
  int64_t now_ms = 0;  // Redis time
  bool paused = false;
  bool more = false;            // jobs still waiting after this claim
  int64_t next_due_in_ms = -1;  // nothing waiting: when the next delayed/retry job is due
  std::vector<ClaimedJob> jobs;
};

struct Lease {
  std::string id;
  int64_t token = 0;
};

struct Completion {
  Lease lease;
  std::string result_json = "null";
};

struct Failure {
  Lease lease;
  std::string error_json;       // {"attempt":N,"message":"..."}; Redis adds "at"
  int64_t retry_delay_ms = -1;  // -1: no retry, the job is dead
};

// The handler was rate limited (HandlerResult::RateLimited): the job waits, its attempt not
// counted.
struct Postponement {
  Lease lease;
  int64_t delay_ms = 0;  // >= 0: due at Redis' now + delay_ms
  std::string log_line;  // appended to the job's log; empty: none
  // No handler for the job's type on this worker: delay_ms is ignored, and the job is due in
  // 1 s, doubled per hand-back in a row up to 60 s (postpone.lua); log_line must say why.
  bool handback = false;
};

struct ProgressUpdate {
  Lease lease;
  std::string progress_json;  // empty: unchanged
  std::vector<std::string> log_lines;
};

// A running job's attempt timed out while its handler still runs (timeout_ms > 0: the mark, the
// timeout it ran past), or the handler of such a job has returned (timeout_ms == 0: the mark is
// cleared). overrun.lua.
struct OverrunNotice {
  Lease lease;
  int64_t timeout_ms = 0;
};

struct ExtendResult {
  std::vector<std::string> lost;              // no longer ours: stop them, results will be refused
  std::vector<std::string> cancel_requested;  // someone asked these to stop
};

struct RecoverResult {
  int64_t requeued = 0;
  int64_t dead = 0;
};

// Limits and retention the worker applies when it finishes jobs. One set per flush.
struct FinishPolicy {
  Retention keep_completed;
  Retention keep_dead{10000, std::chrono::hours(24 * 7)};
  int32_t max_errors_kept = 10;
  int32_t max_log_lines = 100;
};

// What a worker's queue loop sends in one round trip, and what comes back.
struct FlushRequest {
  std::vector<Completion> completions;
  std::vector<Failure> failures;
  std::vector<Postponement> postponements;
  std::vector<ProgressUpdate> progress;
  // Sent first, so that a cleared mark goes before the job's result.
  std::vector<OverrunNotice> overruns;
  std::vector<Lease> extend;  // renew these leases
  std::chrono::milliseconds lease{30000};
  int32_t claim = 0;  // claim up to this many jobs (0: none)
  // With claim > 0: a name for this claim, unique per worker (1..64 bytes; empty: none). If the
  // round trip fails, ReleaseLostClaim with this name hands back what Redis claimed meanwhile.
  std::string claim_receipt;
  FinishPolicy policy;
};

struct FlushResult {
  std::vector<bool> completed;  // per completion: false = refused (stale token)
  std::vector<bool> failed;     // per failure: false = refused
  std::vector<bool> postponed;  // per postponement: false = refused
  std::vector<bool> overrun;    // per overrun notice: false = the lease or mark was not there
  ExtendResult extend;
  std::optional<ClaimResult> claim;
  // A part whose script returned an error changed nothing; its error is here, and the results of
  // the other parts stand (a claim that succeeded must be used even when a completion failed).
  Status progress_error, completions_error, failures_error, extend_error, claim_error;
  Status postponements_error, overruns_error;
};

enum class RemoveMode { kCancel, kRemove };

// One job of a flow (flow_commit.lua).
struct FlowCommitJob {
  NewJob job;  // id "<flow key>.<ref>"; its body carries the job's FlowPlace; never unique
  std::string ref;
  std::string parent;  // empty for the root
  ChildFailurePolicy on_failure = ChildFailurePolicy::kFail;
  // The job's queue when it is not the flow's (never the root's): the relay writes it there
  // (docs/workflows.md, "Flows across queues").
  std::string queue;
};

// A whole flow, committed in one atomic step in its root's queue: its leaves there waiting or
// delayed, its parents held, and the jobs of other queues recorded and dispatched through the
// queue's outbox.
struct FlowCommit {
  std::string flow_key;  // 1..64 of [A-Za-z0-9_-]: the flow id without its queue
  // How long the flow's record (tree, joins, children's results) outlives its root's finish.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  std::vector<FlowCommitJob> jobs;  // exactly one root; every parent among the jobs
};

enum class FlowCommitOutcome {
  kCreated,
  kExisted,   // a flow with this key exists in the queue: nothing was written
  kConflict,  // no such flow, but a job with one of its ids exists: nothing was written
};

// A batch in one queue, or an addition to one, written in one atomic step (batch_commit.lua):
// its members waiting or delayed, its callbacks held until it finishes.
struct BatchCommit {
  std::string batch_key;  // 1..64 of [A-Za-z0-9_-]: the batch id without its queue
  // Empty: create the batch. Else the addition's id (1..24 of [A-Za-z0-9_-]): an addition with
  // this id to this batch exists at most once.
  std::string addition;
  // A creation only: how long the batch's record outlives its finish, and whether it starts open
  // (its callbacks then wait for CloseBatch).
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  bool open = false;
  // Ids "<batch key>.<ref>", refs BatchMemberRef(addition, i) in order; bodies carry FlowPlace.
  std::vector<NewJob> members;
  // A creation only; ids "<batch key>.on_complete" and "<batch key>.on_success".
  std::optional<NewJob> on_complete;
  std::optional<NewJob> on_success;
};

enum class BatchCommitOutcome {
  kCreated,   // the batch, or the addition, was written
  kExisted,   // the batch (creation) or the addition exists: nothing was written
  kConflict,  // the key belongs to a flow, or a job with one of the ids exists
  kNotFound,  // an addition to a batch that does not exist
  kFinished,  // an addition to a batch that finished or was cancelled
};

enum class BatchCloseOutcome { kClosed, kAlreadyClosed, kNotFound };
enum class BatchCancelOutcome { kCancelled, kFinished, kNotFound };

// A schedule as stored (docs/redis-keys.md, "Schedules"): its definition, validated and encoded
// by src/scheduler, and its state record.
struct ScheduleRecord {
  std::string id;
  std::string definition_json;
  int64_t revision = 0;       // grows with every change of the definition
  int64_t next_fire_ms = -1;  // -1: ended
  int64_t runs = 0;           // jobs enqueued for fire times
  int64_t last_fire_ms = 0;   // 0: never fired
  bool paused = false;
  int64_t created_ms = 0;  // Redis time
  std::string last_job_id;
  int64_t missed = 0;  // fire times missed and not caught up, ever
};

struct ScheduleSnapshot {
  int64_t now_ms = 0;  // Redis time when it was read
  std::vector<ScheduleRecord> schedules;
};

struct ScheduleSave {
  std::string id;
  std::string definition_json;
  bool create_only = false;    // true: an existing id is refused (kAlreadyExists)
  int64_t next_fire_ms = -1;   // from the new definition; used when it is new or changed
  std::optional<bool> paused;  // unset: keep (a new schedule runs)
  int64_t max_runs = 0;
  int64_t created_ms = -1;  // a new schedule's created time (Redis ms); -1: Redis' now
};

enum class ScheduleSaveOutcome { kUnchanged, kCreated, kReplaced };

struct ScheduleSaveResult {
  ScheduleSaveOutcome outcome = ScheduleSaveOutcome::kCreated;
  ScheduleRecord record;  // as stored afterwards (definition_json not filled in)
};

// schedule_advance.lua: applied only if the schedule still has `revision` and `expected_next_ms`.
struct ScheduleAdvance {
  std::string id;
  int64_t revision = 0;
  int64_t expected_next_ms = 0;
  int64_t next_ms = -1;  // -1: ended
  int64_t runs_added = 0;
  int64_t last_fire_ms = 0;  // 0: keep the last run as it is
  std::string last_job_id;
  int64_t missed_added = 0;  // fire times passed over as missed (not caught up)
};

class Broker {
 public:
  virtual ~Broker() = default;

  // Fails with kFailedPrecondition unless Redis' maxmemory-policy is noeviction (an evicting Redis
  // silently loses jobs).
  virtual Status CheckServer() = 0;

  virtual Result<std::vector<EnqueueReply>> Enqueue(const std::string& queue,
                                                    std::span<const NewJob> jobs) = 0;
  // Jobs that need not go together (a group commit of separate requests): as Enqueue, but a part
  // that fails fails only its jobs. On a sharded queue each shard's part is one atomic step, so a
  // shard whose master cannot be reached, or that has no room, leaves the other shards' jobs
  // enqueued; on a queue of one shard the jobs are one part, all enqueued or all failed.
  virtual std::vector<Result<EnqueueReply>> EnqueueEach(const std::string& queue,
                                                        std::span<const NewJob> jobs) = 0;
  // The shards a producer places the queue's jobs on, as this broker knows its layout: no round
  // trip (1 until a sharded queue's enqueue told it otherwise).
  virtual int32_t PlacementShards(const std::string& queue) = 0;
  // Enqueues batches one after another, each one atomic step as Enqueue, two in flight: next()
  // makes the next batch (nullopt: there are no more) while Redis runs the one before;
  // done(replies) takes the replies to each batch, in order. Stops at the first failure (of next,
  // of Redis or of the connection) and returns it: the batches before it were enqueued, the one
  // after it may have been (it was sent), none later was sent.
  using NextBatch = std::function<Result<std::optional<QueueBatch>>()>;
  using BatchDone = std::function<void(std::vector<EnqueueReply>&)>;
  virtual Status EnqueueBatches(const NextBatch& next, const BatchDone& done) = 0;
  virtual Result<ClaimResult> Claim(const std::string& queue, int32_t max_jobs,
                                    std::chrono::milliseconds lease) = 0;
  virtual Result<std::vector<bool>> Complete(const std::string& queue,
                                             std::span<const Completion> completions,
                                             const FinishPolicy& policy) = 0;
  virtual Result<std::vector<bool>> Fail(const std::string& queue,
                                         std::span<const Failure> failures,
                                         const FinishPolicy& policy) = 0;
  // postpone.lua: the jobs wait in delayed without their attempt counting as one.
  virtual Result<std::vector<bool>> Postpone(const std::string& queue,
                                             std::span<const Postponement> postponements,
                                             int32_t max_log_lines) = 0;
  virtual Result<ExtendResult> ExtendLeases(const std::string& queue, std::span<const Lease> leases,
                                            std::chrono::milliseconds lease) = 0;
  // All of a worker loop's traffic for one queue in a single pipelined round trip.
  virtual Result<FlushResult> Flush(const std::string& queue, const FlushRequest& request) = 0;
  virtual Result<RecoverResult> RecoverExpired(const std::string& queue, int32_t max_stalls,
                                               int32_t limit, const FinishPolicy& policy) = 0;
  virtual Result<int64_t> Release(const std::string& queue, std::span<const Lease> leases) = 0;
  // After a round trip with a claim failed (its reply lost: Redis may have run it): hands back
  // the jobs that claim took, if any, as Release does (no attempt, no stall). Returns how many.
  virtual Result<int64_t> ReleaseLostClaim(const std::string& queue,
                                           const std::string& receipt) = 0;

  virtual Result<bool> Promote(const std::string& queue, const std::string& id) = 0;
  virtual Result<RemoveOutcome> Remove(const std::string& queue, const std::string& id,
                                       RemoveMode mode) = 0;
  // Flows (docs/workflows.md). Refused with kQueueFull like Enqueue when the queue has a
  // maximum length its leaves would pass.
  virtual Result<FlowCommitOutcome> CommitFlow(const std::string& queue,
                                               const FlowCommit& commit) = 0;
  // nullopt: no such flow (or its record expired).
  virtual Result<std::optional<FlowView>> ReadFlow(const std::string& queue,
                                                   const std::string& flow_key) = 0;
  // The children of `parent_ref` that completed, and those whose policy is "continue" that died,
  // by ref. A flow job's cancel or removal goes through Remove (remove.lua cascades).
  virtual Result<std::vector<FlowChild>> FlowChildren(const std::string& queue,
                                                      const std::string& flow_key,
                                                      const std::string& parent_ref) = 0;
  // Batches (docs/workflows.md). Refused with kQueueFull like Enqueue when the queue has a
  // maximum length its members would pass.
  virtual Result<BatchCommitOutcome> CommitBatch(const std::string& queue,
                                                 const BatchCommit& commit) = 0;
  virtual Result<BatchCloseOutcome> CloseBatch(const std::string& queue,
                                               const std::string& batch_key) = 0;
  virtual Result<BatchCancelOutcome> CancelBatch(const std::string& queue,
                                                 const std::string& batch_key) = 0;
  // nullopt: no such batch (or its record expired).
  virtual Result<std::optional<BatchView>> ReadBatch(const std::string& queue,
                                                     const std::string& batch_key) = 0;
  // Empty ids: the oldest `limit` dead jobs.
  virtual Result<int64_t> RetryDead(const std::string& queue, std::span<const std::string> ids,
                                    int32_t limit) = 0;
  virtual Result<bool> SetPaused(const std::string& queue, bool paused) = 0;
  // The queue's shards as its home shard records them (shard_layout.lua). A broker keeps what it
  // read for a few seconds; an enqueue refused for an older layout reads it again at once.
  virtual Result<QueueLayout> Layout(const std::string& queue) = 0;
  // Moves a sharded queue's concurrency between its shards toward the work each has
  // (share_move.lua; docs/limits.md, "Sharded queues"); workers run it every recover_interval.
  // Returns the slots moved: 0 when none needed to, when another balance is at work, or when the
  // queue has no concurrency limit.
  virtual Result<int64_t> BalanceShares(const QueueLayout& layout) = 0;
  // Spreads the queue over `shards` (1..kMaxShards) hash tags, placed on distinct masters of a
  // cluster where there are enough. Only while the queue holds no job at all, in any state
  // (kFailedPrecondition naming what it holds), and no limit while the old or new layout has
  // more than one shard. The number the queue has repairs an interrupted change. Returns the new
  // layout. SetLimits on a sharded queue writes each shard its share of each limit.
  virtual Result<QueueLayout> SetShards(const std::string& queue, int32_t shards) = 0;
  // The queue's counts shard by shard, in the layout's order (Counts sums them), each with the
  // master serving it on a cluster. One round trip for the counts of every shard.
  virtual Result<QueueShards> CountsByShard(const std::string& queue) = 0;
  // host:port of every master of the cluster that serves slots (those a shard can be placed
  // on), read anew; empty when not on a cluster.
  virtual Result<std::vector<std::string>> ClusterMasters() = 0;
  // SetPaused on every queue of the registry (Queues()); returns how many changed. A queue first
  // used afterwards is not paused.
  virtual Result<int64_t> SetAllPaused(bool paused) = 0;
  // Rate and concurrency limits (queue_limits.lua); claim enforces them for every worker.
  virtual Status SetLimits(const std::string& queue, const QueueLimits& limits) = 0;
  virtual Result<QueueLimits> GetLimits(const std::string& queue) = 0;
  virtual Result<int64_t> Clean(const std::string& queue, JobState state,
                                std::chrono::milliseconds older_than, int32_t limit) = 0;

  virtual Result<std::optional<Job>> GetJob(const std::string& queue, const std::string& id) = 0;
  virtual Result<QueueCounts> Counts(const std::string& queue) = 0;
  // At most `limit` jobs of one state from `from` (taskq/job_cursor.h): newest first for
  // completed and dead, run order for the others; kReversed turns that round. A keyed cursor is
  // refused for the waiting state (kInvalidArgument, "cursor").
  virtual Result<JobListing> ListJobs(const std::string& queue, JobState state,
                                      const JobCursor& from, int64_t limit, ListOrder order) = 0;
  virtual Result<std::vector<std::string>> Queues() = 0;
  // XREAD of the queues' event streams after the cursors (block: 0 = do not wait).
  virtual Result<std::vector<JobEvent>> ReadEvents(std::span<EventCursor> cursors,
                                                   std::chrono::milliseconds block,
                                                   int32_t max_events) = 0;
  virtual Status RegisterQueue(const std::string& queue) = 0;

  // Worker registry (worker_heartbeat.lua, worker_list.lua). A description is a JSON object;
  // an empty one removes the worker's record. Each call also removes a few records silent for
  // longer than `sweep_after` (workers that died without removing theirs).
  virtual Status WorkerHeartbeat(const std::string& worker_id, const std::string& info_json,
                                 std::chrono::milliseconds sweep_after) = 0;
  struct WorkerRecord {
    std::string id;
    std::string info_json;  // as stored: {"hb":<Redis ms>,...}
  };
  struct WorkerList {
    int64_t now_ms = 0;  // Redis time
    std::vector<WorkerRecord> workers;
  };
  // Workers heard from within max_age; older records are removed.
  virtual Result<WorkerList> ListWorkers(std::chrono::milliseconds max_age) = 0;

  // Schedules (schedule_*.lua). Save fails with kAlreadyExists when create_only and the id exists.
  virtual Result<ScheduleSaveResult> SaveSchedule(const ScheduleSave& save) = 0;
  virtual Result<bool> RemoveSchedule(const std::string& id) = 0;  // false: there was none
  virtual Result<ScheduleSnapshot> ListSchedules() = 0;            // by id
  // Those of `ids` that exist, in that order.
  virtual Result<ScheduleSnapshot> GetSchedules(std::span<const std::string> ids) = 0;
  // Active schedules whose next fire time has come, earliest first.
  virtual Result<ScheduleSnapshot> DueSchedules(int32_t limit) = 0;
  // `next_fire_ms` (resume only): the first fire time after now. false: already so; kNotFound.
  virtual Result<bool> SetSchedulePaused(const std::string& id, bool paused,
                                         int64_t next_fire_ms) = 0;
  // false: refused (another scheduler advanced it, or it changed, was paused or removed).
  virtual Result<bool> AdvanceSchedule(const ScheduleAdvance& advance) = 0;
  // Takes or renews the scheduler leadership for `token`; lease 0 gives it up. false: another
  // token holds it.
  virtual Result<bool> HoldSchedulerLease(const std::string& token,
                                          std::chrono::milliseconds lease) = 0;

  // A queue's outbox (outbox_take.lua, outbox_ack.lua): the oldest `max` entries under a lease
  // for `token` (none while another token holds it), and their deletion once applied, which
  // frees the lease.
  virtual Result<std::vector<OutboxEntry>> TakeOutbox(const std::string& queue,
                                                      const std::string& token,
                                                      std::chrono::milliseconds lease,
                                                      int32_t max) = 0;
  virtual Result<int64_t> AckOutbox(const std::string& queue, const std::string& token,
                                    std::span<const std::string> entry_ids) = 0;
  // Applies, in `target`, flow entries taken from `source`'s outbox, in order (IsFlowEntry; at
  // most 1000, all of one FlowEntryTarget class): dispatches and cancels for jobs of `target`
  // (flow_deliver.lua), or reports to the flows' queue `target` (flow_apply.lua). Applying an
  // entry twice changes nothing. Returns how many changed something. kInvalidArgument: an entry
  // is malformed (it can never be applied).
  virtual Result<int64_t> ApplyFlowEntries(const std::string& target, const std::string& source,
                                           std::span<const OutboxEntry> entries) = 0;

  // History (history_record.lua): a sample of the queue's counters for the current bucket,
  // unless one was recorded already, keeping `keep` buckets; and the newest `max` samples.
  struct HistoryRecordResult {
    bool written = false;                     // this call wrote the bucket's sample
    std::chrono::milliseconds until_next{0};  // until the next bucket starts, by Redis' clock
  };
  virtual Result<HistoryRecordResult> RecordHistory(const std::string& queue,
                                                    std::chrono::milliseconds bucket,
                                                    int32_t keep) = 0;
  struct HistorySamples {
    std::vector<QueueHistorySample> samples;  // oldest first
    int64_t now_ms = 0;                       // Redis' clock
  };
  virtual Result<HistorySamples> ReadHistory(const std::string& queue, int32_t max) = 0;

  // Job timing histograms (docs/metrics.md): counters in the queue's `metrics` hash. Not a job
  // transition, so plain HINCRBYs, one round trip for all queues.
  using CounterIncrements = std::vector<std::pair<std::string, int64_t>>;
  virtual Status AddMetrics(
      const std::vector<std::pair<std::string, CounterIncrements>>& per_queue) = 0;
  virtual Result<CounterIncrements> ReadMetrics(const std::string& queue) = 0;
};

struct BrokerOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "taskq";
  // When positive, the longest wait for a connection or a reply, if shorter than the URL's
  // (2 s to connect, 10 s for a reply). A worker's job loop uses a third of its lease, so that
  // a link that stopped answering is noticed while the leases it renews still hold.
  std::chrono::milliseconds reply_timeout{0};
};

Result<std::unique_ptr<Broker>> OpenBroker(const BrokerOptions& options);

// Whether a Redis server at `redis_url` answers PING, connecting within `connect_timeout`. For
// waiting on a redis-server this process started; loads no scripts.
bool Pings(const std::string& redis_url, std::chrono::milliseconds connect_timeout);

// Blocks in Redis pub/sub until a queue's wake channel fires. Used by idle workers so that new work
// starts at once without polling. One thread calls Next(); any thread may call Stop().
class WakeSubscription {
 public:
  virtual ~WakeSubscription() = default;
  // Waits until a wake arrives, `interrupt_fd` (an eventfd) is signalled, or the timeout passes,
  // and returns the queues woken (none: interrupted or timed out; a signal is consumed).
  // kUnavailable when the connection dropped, or when Sentinel names another master (checked
  // about once a second, so a wait on Sentinel returns that often): the caller subscribes again
  // and should assume it missed wakes. For one thread at a time.
  virtual Result<std::vector<std::string>> Wait(int interrupt_fd,
                                                std::chrono::milliseconds timeout) = 0;
};

Result<std::unique_ptr<WakeSubscription>> SubscribeWake(const BrokerOptions& options,
                                                        std::span<const std::string> queues);

}  // namespace taskq::broker
