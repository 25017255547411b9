// API keys: bearer tokens with a scope. Only SHA-256 digests are kept in memory, and a presented
// token is compared with every configured digest in constant time, so neither the config's
// plain tokens nor timing reveal a key.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "api/router.h"
#include "taskq/status.h"

namespace taskq::api {

struct ApiKey {
  Scope scope = Scope::kRead;
  std::array<unsigned char, 32> digest{};  // SHA-256 of the token
  // The job types this key may enqueue, cancel and schedule; empty: every type its scope may.
  std::vector<std::string> types;
};

// "SCOPE:TOKEN" or "SCOPE:sha256:HEX" (the digest of the token, so configs need not hold the
// token), SCOPE one of read, enqueue, admin. Tokens need at least 16 characters. An enqueue or
// admin scope may name the only job types the key may create: "enqueue/email+webhook:TOKEN".
Result<ApiKey> ParseApiKey(std::string_view spec);
// Comma-separated list of specs (TASKQ_API_KEYS).
Result<std::vector<ApiKey>> ParseApiKeys(std::string_view specs);

class ApiKeys {
 public:
  explicit ApiKeys(std::vector<ApiKey> keys) : keys_(std::move(keys)) {}
  bool enabled() const { return !keys_.empty(); }
  // The key in an "Authorization: Bearer TOKEN" header, or null. Compares with every key in
  // constant time.
  const ApiKey* Find(std::string_view authorization_header) const;
  // The scope of that key, or kNone.
  Scope Authenticate(std::string_view authorization_header) const;
  // admin grants everything; enqueue grants enqueue and read; read grants read.
  static bool Grants(Scope held, Scope needed);

 private:
  std::vector<ApiKey> keys_;
};

}  // namespace taskq::api
