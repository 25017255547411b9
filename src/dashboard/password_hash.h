// Password hashes for dashboard users: PBKDF2-HMAC-SHA256 with a random 16-byte salt, written
// "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX" (what `taskq hash-password` prints), so a
// configuration holds no password and a stolen one costs an attacker the iterations per guess.
#pragma once

#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq::dashboard {

inline constexpr int kPasswordIterations = 600000;  // OWASP's figure for PBKDF2-HMAC-SHA256

Result<std::string> HashPassword(std::string_view password, int iterations = kPasswordIterations);
// Checks the form only (for configuration errors at start-up).
Status CheckPasswordHash(std::string_view encoded);
// True when `password` hashes to `encoded`; compares in constant time.
bool VerifyPassword(std::string_view password, std::string_view encoded);

}  // namespace taskq::dashboard
