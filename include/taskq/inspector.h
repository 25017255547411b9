// Operating queues: counts, listing, and the operator's actions. Thread-safe like Client.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "taskq/batch_view.h"
#include "taskq/flow_view.h"
#include "taskq/job.h"
#include "taskq/job_cursor.h"
#include "taskq/job_event.h"
#include "taskq/job_timings.h"
#include "taskq/queue_counts.h"
#include "taskq/queue_history.h"
#include "taskq/queue_limits.h"
#include "taskq/queue_shards.h"
#include "taskq/status.h"
#include "taskq/worker_info.h"

namespace taskq {

struct InspectorOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "taskq";
};

// Which jobs Inspector::Scan keeps: those meeting every criterion given.
struct JobFilter {
  std::string type;   // the job's type, exactly; empty: any
  std::string error;  // a case-insensitive substring of its latest error message; empty: any
  // A field of its data by path ({"customer", "email"}); empty: no field criterion. A string
  // field matches when it equals `value`, any other JSON value when its compact JSON text does
  // ("42", "true", "null", "{\"a\":1}").
  std::vector<std::string> field;
  std::string value;

  static constexpr size_t kMaxTextBytes = 256;  // error, value and each field segment
  static constexpr size_t kMaxPathSegments = 8;

  bool empty() const { return type.empty() && error.empty() && field.empty(); }
  // kInvalidArgument naming type, error, field or value when one breaks a rule or a limit.
  Status Validate() const;
  bool Matches(const Job& job) const;
};

// A page of one state's jobs (Inspector::Page).
struct JobPage {
  std::vector<Job> jobs;  // in the listing's order; jobs removed while it was read are left out
  JobCursor next;         // resumes right after the last job read
  bool at_end = false;    // the state's end was reached
};

struct JobScan {
  std::vector<Job> jobs;  // the matches, in the listing's order
  int64_t scanned = 0;    // jobs examined
  JobCursor next;         // resumes right after the last job examined
  bool at_end = false;    // the state's end was reached
};

class Inspector {
 public:
  struct WorkerList {
    int64_t now_ms = 0;  // Redis time, to age the heartbeats
    std::vector<WorkerInfo> workers;
  };

  static Result<std::unique_ptr<Inspector>> Open(InspectorOptions options);
  ~Inspector();
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  // OK when Redis answers and is safe to use (maxmemory-policy noeviction).
  Status CheckServer();
  Result<std::vector<std::string>> Queues();
  // Worker processes heard from within max_age (3 heartbeat intervals by default), by id.
  Result<WorkerList> Workers(std::chrono::milliseconds max_age = std::chrono::seconds(15));
  Result<QueueCounts> Counts(const std::string& queue);
  // Processing and wait-time histograms per job type, as workers reported them (every few s).
  Result<QueueTimings> Timings(const std::string& queue);
  // The buckets of the queue's history (queue_history.h) that started within `window` of now,
  // at most `max_rows` (the newest), oldest first.
  Result<QueueHistory> History(const std::string& queue, std::chrono::milliseconds window,
                               int32_t max_rows = 1440);
  // Waiting, delayed, retrying and active in run order; completed and dead newest first;
  // kReversed turns that round. limit in [1, 1000].
  Result<std::vector<Job>> List(const std::string& queue, JobState state, int64_t offset,
                                int64_t limit, ListOrder order = ListOrder::kDefault);
  // List from a cursor (taskq/job_cursor.h): page after page, a job that stays in a state kept
  // in a sorted set is listed exactly once however others come and go. One round trip for the
  // ids and one for the jobs, wherever the page lies.
  Result<JobPage> Page(const std::string& queue, JobState state, const JobCursor& from,
                       int64_t limit, ListOrder order = ListOrder::kDefault);
  // Examines the jobs of `state` from `from`, in `order`, until `limit` (1..1000) match the
  // filter, `max_scan` (1..kMaxScan) were examined or the state ends. Reads kScanChunk jobs per
  // round trip pair (their ids, then the jobs), so one call is bounded in time and memory
  // whatever the state holds.
  static constexpr int64_t kMaxScan = 50000;
  static constexpr int64_t kScanChunk = 500;
  Result<JobScan> Scan(const std::string& queue, JobState state, const JobFilter& filter,
                       const JobCursor& from, int64_t max_scan, int64_t limit,
                       ListOrder order = ListOrder::kDefault);
  Result<bool> Pause(const std::string& queue);   // true if it was running
  Result<bool> Resume(const std::string& queue);  // true if it was paused
  // Every queue (Queues()) at once; each returns how many queues changed. A queue first used
  // after PauseAll is not paused.
  Result<int64_t> PauseAll();
  Result<int64_t> ResumeAll();
  // Replaces the queue's limits (all workers obey them at their next claim); kInvalidArgument
  // naming the field when one is out of bounds. A sharded queue's are split into shares, one
  // per shard, that add up to them (docs/limits.md, "Sharded queues").
  Status SetLimits(const std::string& queue, const QueueLimits& limits);
  Result<QueueLimits> Limits(const std::string& queue);
  // Sharded queues (docs/architecture.md, "Sharded queues"): how many shards the queue has, and
  // spreading it over `shards` (1..32) hash tags, placed on distinct masters of a Redis Cluster
  // where there are enough. A change is refused (kFailedPrecondition naming what is in the way)
  // while the queue holds any job (completed and dead ones too), and while it has limits and the
  // old or new layout more than one shard. SetShards to the number the queue has repairs a
  // change interrupted midway. Workers claim from new shards within their recover_interval.
  Result<int32_t> Shards(const std::string& queue);
  Status SetShards(const std::string& queue, int32_t shards);
  // The queue's counts shard by shard (Counts gives their sums), with the master serving each
  // shard on a Redis Cluster.
  Result<QueueShards> ShardBreakdown(const std::string& queue);
  // host:port of every master of the Redis Cluster that serves slots (read anew); empty when not
  // on a cluster.
  Result<std::vector<std::string>> ClusterMasters();
  // Retries the given dead jobs, or the oldest `limit` when ids is empty. Returns how many moved.
  Result<int64_t> RetryDead(const std::string& queue, std::span<const std::string> ids,
                            int32_t limit = 1000);
  Result<bool> Promote(const std::string& queue, const std::string& id);
  // The job with this id: in `queue` when given, else in whichever known queue holds it (one
  // read per queue until found).
  Result<std::optional<Job>> Find(const std::string& id, const std::string& queue = {});
  // A dead job goes back to waiting with fresh attempts; a retrying one has its backoff cut
  // short. False when `job` (as read) is in neither state or moved meanwhile.
  Result<bool> Retry(const Job& job);
  // Removes a job that is not running, with all its keys.
  Result<RemoveOutcome> Remove(const std::string& queue, const std::string& id);
  // A flow by its id ("<queue>:<flow key>"): its jobs, their states and its parents' joins.
  // nullopt: no such flow, or its record expired (docs/workflows.md).
  Result<std::optional<FlowView>> GetFlow(const std::string& flow_id);
  // A batch by its id ("<queue>:<batch key>"): its state, counts and callbacks. nullopt: no such
  // batch, or its record expired (docs/workflows.md, "Batches").
  Result<std::optional<BatchView>> GetBatch(const std::string& batch_id);
  // Removes completed or dead jobs that finished more than older_than ago; at most limit (from
  // each shard of a sharded queue).
  Result<int64_t> Clean(const std::string& queue, JobState state,
                        std::chrono::milliseconds older_than, int32_t limit = 10000);
  // The events after each cursor (job_event.h), waiting up to `timeout` (at most 5 s) for the
  // first when there are none yet (0: do not wait); at most max_events. Advances the cursors. One
  // Redis call (XREAD over every queue's stream), plus one per cursor that starts "from now"; on
  // a Redis Cluster one XREAD per queue, all sent at once, and the wait polls every 100 ms. The
  // wait holds this Inspector: give a reader one of its own.
  Result<std::vector<JobEvent>> WaitEvents(std::vector<EventCursor>& cursors,
                                           std::chrono::milliseconds timeout,
                                           int32_t max_events = 1000);

 private:
  class Impl;
  explicit Inspector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace taskq
