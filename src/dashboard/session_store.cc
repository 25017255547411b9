#include "dashboard/session_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "common/percent_encoding.h"
#include "dashboard/password_hash.h"

namespace taskq::dashboard {

const char* RoleName(Role role) { return role == Role::kAdmin ? "admin" : "read"; }

Result<DashboardUser> ParseDashboardUser(std::string_view spec) {
  const size_t first = spec.find(':');
  const size_t second = first == std::string_view::npos ? first : spec.find(':', first + 1);
  if (second == std::string_view::npos) {
    return InvalidArgument("dashboard_users", "each user is NAME:ROLE:HASH");
  }
  DashboardUser user;
  user.name = std::string(spec.substr(0, first));
  if (user.name.empty() || user.name.size() > 64) {
    return InvalidArgument("dashboard_users", "a user name has 1 to 64 characters");
  }
  const std::string_view role = spec.substr(first + 1, second - first - 1);
  if (role == "admin") {
    user.role = Role::kAdmin;
  } else if (role == "read") {
    user.role = Role::kRead;
  } else {
    return InvalidArgument("dashboard_users",
                           "user '" + user.name + "': role must be admin or read");
  }
  user.password_hash = std::string(spec.substr(second + 1));
  if (Status s = CheckPasswordHash(user.password_hash); !s.ok()) {
    return InvalidArgument("dashboard_users", "user '" + user.name + "': the hash " + s.message());
  }
  return user;
}

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return {};
  }
  return HexEncode(std::span<const unsigned char>(
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
}

bool TokensEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SessionStore::Create(std::string user, Role role, Session* session) {
  std::string token = RandomToken();
  session->user = std::move(user);
  session->role = role;
  session->csrf = RandomToken();
  if (token.empty() || session->csrf.empty()) return {};
  const Clock::time_point now = now_();
  std::lock_guard lock(mu_);
  if (sessions_.size() >= options_.max_sessions) {
    std::erase_if(sessions_, [now](const auto& kv) { return kv.second.expires <= now; });
  }
  if (sessions_.size() >= options_.max_sessions) {
    auto soonest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expires < b.second.expires;
    });
    sessions_.erase(soonest);
  }
  sessions_[token] = Entry{*session, now + options_.lifetime};
  return token;
}

std::optional<Session> SessionStore::Find(std::string_view token) {
  if (token.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(std::string(token));
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now_()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.session;
}

void SessionStore::Remove(std::string_view token) {
  std::lock_guard lock(mu_);
  sessions_.erase(std::string(token));
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace taskq::dashboard
