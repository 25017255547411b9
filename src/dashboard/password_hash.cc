#include "dashboard/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <optional>

#include "common/percent_encoding.h"

namespace taskq::dashboard {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr int kMinIterations = 1000;       // below this a hash is refused as too weak
constexpr int kMaxIterations = 100000000;  // above this one login would take minutes

struct Parsed {
  int iterations = 0;
  std::string salt, hash;
};

std::optional<Parsed> Parse(std::string_view encoded) {
  std::array<std::string_view, 4> parts;
  for (size_t i = 0; i < parts.size(); ++i) {
    const size_t dollar = encoded.find('$');
    if ((dollar == std::string_view::npos) != (i == parts.size() - 1)) return std::nullopt;
    parts[i] = encoded.substr(0, dollar);
    if (dollar != std::string_view::npos) encoded.remove_prefix(dollar + 1);
  }
  if (parts[0] != kScheme) return std::nullopt;
  Parsed out;
  auto [ptr, ec] =
      std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), out.iterations);
  if (ec != std::errc() || ptr != parts[1].data() + parts[1].size() ||
      out.iterations < kMinIterations || out.iterations > kMaxIterations) {
    return std::nullopt;
  }
  auto salt = HexDecode(parts[2]);
  auto hash = HexDecode(parts[3]);
  if (!salt || salt->size() < 8 || !hash || hash->size() != kHashBytes) return std::nullopt;
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  return out;
}

bool Derive(std::string_view password, std::string_view salt, int iterations, unsigned char* out) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           static_cast<int>(kHashBytes), out) == 1;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, int iterations) {
  if (password.empty()) return InvalidArgument("password", "must not be empty");
  if (password.size() > 1024) return InvalidArgument("password", "is longer than 1024 bytes");
  if (iterations < kMinIterations || iterations > kMaxIterations) {
    return InvalidArgument("iterations", "must be in [1000, 100000000]");
  }
  std::array<unsigned char, kSaltBytes> salt{};
  std::array<unsigned char, kHashBytes> hash{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Internal("no random bytes for a salt");
  }
  const std::string_view salt_view(reinterpret_cast<const char*>(salt.data()), salt.size());
  if (!Derive(password, salt_view, iterations, hash.data())) return Internal("PBKDF2 failed");
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + HexEncode(salt) + "$" +
         HexEncode(hash);
}

Status CheckPasswordHash(std::string_view encoded) {
  if (Parse(encoded)) return Status::Ok();
  return InvalidArgument("hash",
                         "must be pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX as printed by "
                         "'taskq hash-password' (iterations 1000 to 100000000)");
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  auto parsed = Parse(encoded);
  if (!parsed || password.size() > 1024) return false;
  std::array<unsigned char, kHashBytes> hash{};
  if (!Derive(password, parsed->salt, parsed->iterations, hash.data())) return false;
  return CRYPTO_memcmp(hash.data(), parsed->hash.data(), kHashBytes) == 0;
}

}  // namespace taskq::dashboard
