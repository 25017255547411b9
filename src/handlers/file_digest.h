// The size and SHA-256 of a file, read in fixed-size blocks (OpenSSL EVP), so a result can carry a
// checksum of what was written without holding the file in memory.
#pragma once

#include <cstdint>
#include <string>

#include "taskq/status.h"

namespace taskq::handlers {

struct FileDigest {
  int64_t bytes = 0;
  std::string sha256_hex;  // 64 lowercase hex digits
};

Result<FileDigest> DigestFile(const std::string& path);

}  // namespace taskq::handlers
