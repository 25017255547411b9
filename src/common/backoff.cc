#include <algorithm>
#include <cmath>

#include "taskq/retry_policy.h"

namespace taskq {

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int failed_attempt,
                                       double unit_random) {
  using std::chrono::milliseconds;
  switch (policy.type) {
    case BackoffType::kNone:
      return milliseconds(0);
    case BackoffType::kFixed:
      return std::min(policy.delay, policy.max_delay);
    case BackoffType::kExponential:
      break;
  }
  // delay * 2^(failed_attempt - 1), computed in double so large attempts saturate at the cap
  // instead of overflowing.
  const double exponent = std::max(0, failed_attempt - 1);
  const double full = std::min(static_cast<double>(policy.delay.count()) * std::pow(2.0, exponent),
                               static_cast<double>(policy.max_delay.count()));
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double drawn = full * (1.0 - jitter * std::clamp(unit_random, 0.0, 1.0));
  return milliseconds(static_cast<int64_t>(drawn));
}

const char* BackoffTypeName(BackoffType type) {
  switch (type) {
    case BackoffType::kExponential:
      return "exponential";
    case BackoffType::kFixed:
      return "fixed";
    case BackoffType::kNone:
      return "none";
  }
  return "exponential";
}

}  // namespace taskq
