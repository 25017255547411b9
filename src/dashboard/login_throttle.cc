#include "dashboard/login_throttle.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace taskq::dashboard {

std::optional<std::chrono::seconds> LoginThrottle::Begin(const std::string& client,
                                                         Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto found = clients_.find(client);
  if (found == clients_.end()) {
    if (clients_.size() >= kMaxClients) EvictStalest();
    found = clients_.emplace(client, Record{}).first;
  }
  Record& record = found->second;
  record.last_seen = now;
  if (record.in_flight) return std::chrono::seconds(1);
  if (now < record.blocked_until) {
    // Rounded up: a client that comes back after Retry-After is admitted.
    return std::chrono::ceil<std::chrono::seconds>(record.blocked_until - now);
  }
  record.in_flight = true;
  return std::nullopt;
}

void LoginThrottle::Finish(const std::string& client, bool succeeded, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto found = clients_.find(client);
  if (found == clients_.end()) return;
  Record& record = found->second;
  record.in_flight = false;
  record.last_seen = now;
  if (succeeded) {
    clients_.erase(found);
    return;
  }
  ++record.failures;
  if (record.failures >= kFreeFailures) {
    const int doublings = std::min(record.failures - kFreeFailures, 6);  // 2^6 s > kMaxWait
    record.blocked_until =
        now + std::min<std::chrono::seconds>(std::chrono::seconds(1) * (1 << doublings), kMaxWait);
  }
}

void LoginThrottle::EvictStalest() {
  // Called with mu_ held and the map full: drop the records not seen for longest (in flight ones
  // stay), a tenth of them at once so that eviction is rare.
  std::vector<std::pair<Clock::time_point, std::string>> idle;
  for (const auto& [client, record] : clients_) {
    if (!record.in_flight) idle.emplace_back(record.last_seen, client);
  }
  const size_t drop = std::max<size_t>(1, idle.size() / 10);
  std::partial_sort(idle.begin(), idle.begin() + std::min(drop, idle.size()), idle.end());
  for (size_t i = 0; i < drop && i < idle.size(); ++i) clients_.erase(idle[i].second);
}

}  // namespace taskq::dashboard
