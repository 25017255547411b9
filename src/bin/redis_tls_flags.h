// --redis-tls-ca, --redis-tls-cert, --redis-tls-key and --redis-tls-insecure (TASKQ_REDIS_TLS_*):
// the TLS settings of a rediss:// --redis-url, given apart from it. They become the URL's tls_*
// parameters (broker/redis_endpoint.h), so every part of taskq that connects takes them alike.
#pragma once

#include <string>

#include "bin/flag_listing.h"
#include "taskq/status.h"

namespace taskq::bin {

struct RedisTlsFlags {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure = false;
};

void AddRedisTlsFlags(FlagAdder& add, RedisTlsFlags* flags);

// `url` with the flags that are set as its tls_* parameters; an error when some are set and the
// URL is not rediss://, or names the same parameter. With `warn`, warns loudly when
// verification is off.
Result<std::string> WithRedisTlsFlags(const std::string& url, const RedisTlsFlags& flags,
                                      bool warn);

}  // namespace taskq::bin
