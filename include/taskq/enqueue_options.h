// What a producer says about a job beyond its type and data. Each default sits beside its field.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "taskq/retry_policy.h"

namespace taskq {

// How many finished jobs of a queue stay in Redis. Applied when a job finishes: the oldest beyond
// `count` and those older than `age` are removed (without scanning the rest).
struct Retention {
  int64_t count = 1000;
  std::chrono::milliseconds age{std::chrono::hours(24)};

  bool operator==(const Retention&) const = default;
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
};

inline constexpr int32_t kMinPriority = -1000000;
inline constexpr int32_t kMaxPriority = 1000000;
inline constexpr int32_t kMaxAttemptsLimit = 1000;
inline constexpr size_t kMaxGroupBytes = 128;

}  // namespace taskq
