// Per-client limits on dashboard sign-ins, so that one client guessing passwords (or flooding the
// sign-in) slows only itself: a client address has at most one password check in flight, and
// after kFreeFailures failed sign-ins in a row it must wait before the next, 1 s doubling to
// 60 s; a successful sign-in clears its record. Other addresses are never affected, so a stranger
// cannot lock out the admin. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace taskq::dashboard {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kFreeFailures = 5;
  static constexpr std::chrono::seconds kMaxWait{60};
  static constexpr size_t kMaxClients = 10000;  // then the stalest records are dropped

  // nullopt: `client` may try now (its check is then in flight until Finish). Otherwise how long
  // it must wait: another of its checks is in flight (1 s), or it is backing off.
  std::optional<std::chrono::seconds> Begin(const std::string& client, Clock::time_point now);
  // The check that Begin admitted ended; `succeeded` clears the client's failures.
  void Finish(const std::string& client, bool succeeded, Clock::time_point now);

 private:
  struct Record {
    bool in_flight = false;
    int failures = 0;  // in a row
    Clock::time_point blocked_until{};
    Clock::time_point last_seen{};
  };
  void EvictStalest();

  std::mutex mu_;
  std::unordered_map<std::string, Record> clients_;  // guarded by mu_
};

}  // namespace taskq::dashboard
