#include "api/queue_rates.h"

namespace taskq::api {

void QueueRates::Sample(const std::string& queue, Clock::time_point at, const Totals& totals) {
  std::lock_guard lock(mu_);
  auto& points = samples_[queue];
  if (!points.empty() && at - points.back().at < std::chrono::seconds(1)) return;
  points.push_back({at, totals});
  // Keep one sample older than a minute, as the window's start.
  while (points.size() > 2 && at - points[1].at >= std::chrono::seconds(60)) points.pop_front();
}

std::optional<QueueRates::PerMinute> QueueRates::Rate(const std::string& queue) const {
  std::lock_guard lock(mu_);
  auto it = samples_.find(queue);
  if (it == samples_.end() || it->second.size() < 2) return std::nullopt;
  const Totals& first = it->second.front().totals;
  const Totals& last = it->second.back().totals;
  const double seconds =
      std::chrono::duration<double>(it->second.back().at - it->second.front().at).count();
  if (seconds < 5) return std::nullopt;
  // A counter that went down was reset (queue data removed): no rate rather than a negative one.
  if (last.completed < first.completed || last.failed < first.failed) return std::nullopt;
  PerMinute out{(last.completed - first.completed) * 60 / seconds,
                (last.failed - first.failed) * 60 / seconds, std::nullopt};
  const int64_t started = last.wait_count - first.wait_count;
  if (started > 0 && last.wait_sum_ms >= first.wait_sum_ms) {
    out.mean_wait_ms = static_cast<double>(last.wait_sum_ms - first.wait_sum_ms) / started;
  }
  return out;
}

}  // namespace taskq::api
