// Operating queues: counts, listing, and the operator's actions. Thread-safe like Client.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "taskq/job.h"
#include "taskq/job_event.h"
#include "taskq/job_timings.h"
#include "taskq/queue_counts.h"
#include "taskq/queue_limits.h"
#include "taskq/status.h"
#include "taskq/worker_info.h"

namespace taskq {

struct InspectorOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "taskq";
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
  // Waiting, delayed, retrying and active in run order; completed and dead newest first.
  // limit in [1, 1000].
  Result<std::vector<Job>> List(const std::string& queue, JobState state, int64_t offset,
                                int64_t limit);
  Result<bool> Pause(const std::string& queue);   // true if it was running
  Result<bool> Resume(const std::string& queue);  // true if it was paused
  // Replaces the queue's limits (all workers obey them at their next claim); kInvalidArgument
  // naming the field when one is out of bounds.
  Status SetLimits(const std::string& queue, const QueueLimits& limits);
  Result<QueueLimits> Limits(const std::string& queue);
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
  // Removes completed or dead jobs that finished more than older_than ago; at most limit.
  Result<int64_t> Clean(const std::string& queue, JobState state,
                        std::chrono::milliseconds older_than, int32_t limit = 10000);
  // The events after each cursor (job_event.h), waiting up to `timeout` for the first when
  // there are none yet (0: do not wait); at most max_events. Advances the cursors. One Redis
  // call (XREAD over every queue's stream), plus one per cursor that starts "from now". The
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
