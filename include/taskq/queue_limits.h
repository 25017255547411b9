// Limits on how fast and how many jobs of a queue start, shared by every worker on every host:
// they are kept in Redis and enforced by the claim script, atomically with the claim itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace taskq {

// At most `max` jobs started in any window of `window` (a sliding window: no interval of that
// length ever holds more starts). max = 0: no limit.
struct RateLimit {
  int64_t max = 0;
  std::chrono::milliseconds window{1000};
  bool enabled() const { return max > 0; }
  bool operator==(const RateLimit&) const = default;
};

struct QueueLimits {
  RateLimit rate;           // jobs started per window, whole queue
  int32_t concurrency = 0;  // jobs active at once, whole queue (0: no limit)
  // Per group (EnqueueOptions::group, or the data field below): the same limits for each group
  // on its own; groups with waiting jobs take turns, so a busy group cannot starve the others.
  RateLimit group_rate;
  int32_t group_concurrency = 0;
  // A data field whose value (a string or a number) is the group of a job enqueued without one.
  // Empty: none. Applies to jobs enqueued after it is set.
  std::string group_field;
  // Fair priorities: a waiting job gains one priority step per this much waiting, so a low
  // priority runs at the latest about (its priority - the best one) x this after it was queued,
  // even under a steady stream of better work. 0: off (strict priorities). Orders jobs queued
  // after it is set.
  std::chrono::milliseconds priority_aging{0};
  // Backpressure: at most this many jobs waiting, delayed or retrying. An enqueue that would
  // pass it creates nothing and fails with StatusCode::kQueueFull (HTTP 429). 0: no maximum.
  int64_t max_length = 0;
  bool operator==(const QueueLimits&) const = default;
};

// Bounds a limit must respect (checked by Inspector::SetLimits and the API).
inline constexpr int64_t kMaxRateLimit = 1'000'000'000;
inline constexpr std::chrono::milliseconds kMaxRateWindow = std::chrono::hours(24);
inline constexpr int32_t kMaxConcurrencyLimit = 1'000'000;
inline constexpr size_t kMaxGroupFieldBytes = 128;
inline constexpr int64_t kMaxQueueLength = int64_t{1} << 40;

}  // namespace taskq
