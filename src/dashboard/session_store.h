// Dashboard users and their sessions. A session is a random 256-bit token in an HttpOnly cookie,
// with its own random CSRF token that the page sends back as a header on every mutating request.
// Sessions live in this process's memory: a restart signs everyone out. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "taskq/status.h"

namespace taskq::dashboard {

enum class Role { kRead, kAdmin };
const char* RoleName(Role role);

struct DashboardUser {
  std::string name;
  Role role = Role::kRead;
  std::string password_hash;  // see password_hash.h
};

// "NAME:ROLE:HASH", ROLE admin or read; NAME 1 to 64 characters without ':'.
Result<DashboardUser> ParseDashboardUser(std::string_view spec);

struct Session {
  std::string user;  // empty: the anonymous session of a dashboard without login
  Role role = Role::kRead;
  std::string csrf;  // hex
};

struct SessionStoreOptions {
  std::chrono::seconds lifetime{12 * 3600};  // from sign-in, not renewed by use
  size_t max_sessions = 10000;               // beyond this the session closest to expiry is dropped
};

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SessionStore(SessionStoreOptions options = {},
                        std::function<Clock::time_point()> now = Clock::now)
      : options_(options), now_(std::move(now)) {}

  // Starts a session; returns its token (hex) and fills `session`.
  std::string Create(std::string user, Role role, Session* session);
  // The live session of `token`, or nullopt (unknown or expired; an expired one is dropped).
  std::optional<Session> Find(std::string_view token);
  void Remove(std::string_view token);
  size_t size() const;

 private:
  struct Entry {
    Session session;
    Clock::time_point expires;
  };
  const SessionStoreOptions options_;
  const std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;  // guarded by mu_; by token
};

// A random token of `bytes` bytes, hex; empty if the system has no randomness to give.
std::string RandomToken(size_t bytes = 32);
// Constant-time equality of two tokens (length leaks, content does not).
bool TokensEqual(std::string_view a, std::string_view b);

}  // namespace taskq::dashboard
