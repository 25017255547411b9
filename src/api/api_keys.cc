#include "api/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/job_codec.h"
#include "common/percent_encoding.h"
#include "common/text_list.h"

namespace taskq::api {
namespace {

std::array<unsigned char, 32> Sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

Result<ApiKey> ParseApiKey(std::string_view spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("api_keys", "each key is SCOPE:TOKEN or SCOPE:sha256:HEX");
  }
  ApiKey key;
  std::string_view scope = spec.substr(0, colon), rest = spec.substr(colon + 1);
  if (const size_t slash = scope.find('/'); slash != std::string_view::npos) {
    for (std::string_view type : SplitList(scope.substr(slash + 1), '+')) {
      if (Status s = ValidateName("api_keys", type); !s.ok()) {
        return InvalidArgument("api_keys", "a job type after SCOPE/ " + s.message());
      }
      key.types.emplace_back(type);
    }
    if (key.types.empty()) return InvalidArgument("api_keys", "SCOPE/ names no job type");
    scope = scope.substr(0, slash);
    if (scope == "read") return InvalidArgument("api_keys", "a read key enqueues no job types");
  }
  if (scope == "read")
    key.scope = Scope::kRead;
  else if (scope == "enqueue")
    key.scope = Scope::kEnqueue;
  else if (scope == "admin")
    key.scope = Scope::kAdmin;
  else
    return InvalidArgument("api_keys", "scope must be read, enqueue or admin");
  if (rest.starts_with("sha256:")) {
    std::string_view hex = rest.substr(7);
    if (hex.size() != 64) return InvalidArgument("api_keys", "a sha256 digest has 64 hex digits");
    for (size_t i = 0; i < 32; ++i) {
      const int hi = HexDigitValue(hex[2 * i]), lo = HexDigitValue(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return InvalidArgument("api_keys", "the digest is not hex");
      key.digest[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return key;
  }
  if (rest.size() < 16) return InvalidArgument("api_keys", "a token needs at least 16 characters");
  key.digest = Sha256(rest);
  return key;
}

Result<std::vector<ApiKey>> ParseApiKeys(std::string_view specs) {
  std::vector<ApiKey> keys;
  for (std::string_view one : SplitList(specs)) {
    auto key = ParseApiKey(one);
    if (!key.ok()) return key.status();
    keys.push_back(*key);
  }
  return keys;
}

const ApiKey* ApiKeys::Find(std::string_view header) const {
  // The scheme name is case-insensitive (RFC 9110 11.1): "bearer" and "BEARER" count too.
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() || !StartsWithIgnoringCase(header, kBearer)) {
    return nullptr;
  }
  const auto digest = Sha256(header.substr(kBearer.size()));
  const ApiKey* found = nullptr;
  for (const ApiKey& key : keys_) {  // no early exit: the time taken does not depend on a match
    if (CRYPTO_memcmp(digest.data(), key.digest.data(), digest.size()) == 0) found = &key;
  }
  return found;
}

Scope ApiKeys::Authenticate(std::string_view header) const {
  const ApiKey* key = Find(header);
  return key ? key->scope : Scope::kNone;
}

bool ApiKeys::Grants(Scope held, Scope needed) {
  if (needed == Scope::kNone || held == Scope::kAdmin) return true;
  if (held == Scope::kEnqueue) return needed == Scope::kEnqueue || needed == Scope::kRead;
  return held == Scope::kRead && needed == Scope::kRead;
}

}  // namespace taskq::api
