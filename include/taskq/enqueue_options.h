// What a producer says about a job beyond its type and data. Each default sits beside its field.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "taskq/retry_policy.h"

namespace taskq {

// How many finished jobs of a queue stay in Redis. Applied when a job finishes: the oldest beyond
// `count` and those older than `age` are removed (without scanning the rest).
struct Retention {
  int64_t count = 1000;
  std::chrono::milliseconds age{std::chrono::hours(24)};

  bool operator==(const Retention&) const = default;
};

// A unique job: while a job holds its key, enqueueing another job with the key returns the holder
// (EnqueueResult::created false, unique_hit true) instead of adding a job. Keys are per queue.
struct UniqueOptions {
  enum class Mode {
    // Held while the holder is waiting, delayed, active or retrying: completing, going dead or
    // being removed or cancelled ends it.
    kUntilCompleted,
    // Held for `ttl` from the enqueue, whatever happens to the job meanwhile.
    kTtl,
    // A new enqueue replaces a holder that is still waiting or delayed: that job is removed and
    // the new one is enqueued with its own delay, so the start moves back. A holder that already
    // started (or finished) is left alone and the new job is enqueued as the key's holder.
    kDebounce,
  };
  // 1 to 256 bytes, no control characters. Empty: derived from the job, the lowercase hex SHA-256
  // of its type, a NUL byte and its data_json exactly as given (so equal data spelled differently,
  // e.g. with other spacing or key order, gives another key).
  std::string key;
  Mode mode = Mode::kUntilCompleted;
  // kTtl only (and required there): how long the key is held, 1 ms to 30 days.
  std::chrono::milliseconds ttl{0};

  bool operator==(const UniqueOptions&) const = default;
};

inline constexpr size_t kMaxUniqueKeyBytes = 256;
inline constexpr std::chrono::milliseconds kMaxUniqueTtl{int64_t{30} * 24 * 3600 * 1000};

// What a child's death does to its parent in a flow (taskq/flow.h).
enum class ChildFailurePolicy {
  kFail,      // the parent goes dead, cancelled, at the first such death (the default)
  kIgnore,    // the parent runs once every child settled; the child is left out of its results
  kContinue,  // the parent runs once every child settled, and sees the child's error
};
const char* ChildFailurePolicyName(ChildFailurePolicy policy);
std::optional<ChildFailurePolicy> ParseChildFailurePolicy(std::string_view name);

// A job's place in a flow, set by the flow's submission (Client::SubmitFlow); producers of single
// jobs cannot set it. Its id is "<flow key>.<ref>".
struct FlowPlace {
  std::string flow_id;  // "<queue>:<flow key>"
  std::string ref;
  std::string parent;  // the parent's ref; empty for the root
  ChildFailurePolicy on_failure = ChildFailurePolicy::kFail;
  bool has_children = false;  // a parent: it runs once its children settled, and reads them
  // A batch's job (Client::SubmitBatch): flow_id is the batch's id. A member's ref is its place
  // ("<i>", or "<addition>-<i>") and its parent "*"; a callback's ref is "on_complete" or
  // "on_success", its parent "^", and has_children is set (it reads the batch's counts).
  bool batch = false;
  // The flow has jobs in more than one queue: finishing this job writes to its queue's outbox
  // (docs/workflows.md, "Flows across queues"), which the worker's relay then applies.
  bool across_queues = false;

  bool operator==(const FlowPlace&) const = default;
};

struct EnqueueOptions {
  // Queue to put the job in; empty means "the job's type".
  std::string queue;
  // Client-chosen id. Enqueueing an id that exists returns the existing job and changes nothing.
  // Empty: taskq generates a unique, time-ordered id.
  std::string job_id;
  // Lower runs first; FIFO within one priority. Range [kMinPriority, kMaxPriority].
  int32_t priority = 0;
  // Run no earlier than now + delay (Redis' clock), or at run_at_ms (Unix ms) when set.
  std::chrono::milliseconds delay{0};
  std::optional<int64_t> run_at_ms;
  // Attempts in total, the first included. 1 means no retry.
  int32_t max_attempts = 3;
  BackoffPolicy backoff;
  // An attempt running longer than this fails as a timeout. 0 = the worker's default.
  std::chrono::milliseconds timeout{0};
  // A group (a tenant, a host...): the queue's group limits then apply to it, and groups take
  // turns (docs/limits.md). Empty: none, or the value of the data field the queue groups by.
  // At most kMaxGroupBytes, no control characters.
  std::string group;
  // Retention of this job once completed, and once dead.
  Retention keep_completed;
  Retention keep_dead{10000, std::chrono::hours(24 * 7)};
  // Set by the scheduler on the jobs a schedule enqueues: the schedule's id and the fire time the
  // job stands for (Unix ms; for "run now", the time it was asked for). Empty for other jobs.
  std::string schedule_id;
  int64_t schedule_fire_ms = 0;
  // At most one job per key at a time (see UniqueOptions). None by default.
  std::optional<UniqueOptions> unique;
  // The W3C traceparent of the trace the job belongs to ("00-<trace id>-<parent id>-<flags>"),
  // kept on the job, given to its handler (JobContext::trace_parent) and sent on by the webhook
  // handler. Empty: none.
  std::string trace_parent;
  // Called when the job completes or goes dead: a `webhook` job (in the callback queue of the
  // worker that relays it, "webhook" by default) POSTs {"type": "job.completed" | "job.dead",
  // "job": {...}} to this URL, signed and checked like every webhook (docs/job-types.md).
  // http:// or https://, at most 8192 bytes. Empty: none.
  std::string callback_url;
  // A job not started by then (Unix ms; Redis' clock, as read by the claim) is not run: the
  // worker that claims it sends it to dead with the error "expired: not started by ...".
  std::optional<int64_t> expires_at_ms;
  // Last in, first out: the job runs before the jobs of its priority (and group) already waiting.
  // It orders the job when it is enqueued waiting; a delayed job joins the tail when it is due,
  // and a retried or recovered one goes where every retry or recovery goes.
  bool lifo = false;
  // Its place in a flow; none for a job enqueued on its own.
  std::optional<FlowPlace> flow;
};

inline constexpr int32_t kMinPriority = -1000000;
inline constexpr int32_t kMaxPriority = 1000000;
inline constexpr int32_t kMaxAttemptsLimit = 1000;
inline constexpr size_t kMaxGroupBytes = 128;

}  // namespace taskq
