// How long a failed attempt waits before the next one.
#pragma once

#include <chrono>
#include <cstdint>

namespace taskq {

enum class BackoffType { kExponential, kFixed, kNone };
// "exponential", "fixed", "none": the names the API and the stored job use.
const char* BackoffTypeName(BackoffType type);

struct BackoffPolicy {
  BackoffType type = BackoffType::kExponential;
  // Delay before the second attempt; exponential doubles it for each further attempt.
  std::chrono::milliseconds delay{1000};
  // No retry waits longer than this.
  std::chrono::milliseconds max_delay{std::chrono::hours(1)};
  // Exponential only: each delay is drawn uniformly from [delay * (1 - jitter), delay].
  // Spreads retries of jobs that failed together (a "thundering herd" after an outage).
  double jitter = 0.2;
};

// The delay before the attempt after `failed_attempt` (1-based). `unit_random` is a number in
// [0, 1) supplied by the caller, so the function is pure and testable.
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int failed_attempt,
                                       double unit_random);

}  // namespace taskq
