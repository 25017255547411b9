#include "bin/redis_tls_flags.h"

#include <spdlog/spdlog.h>

#include "broker/redis_endpoint.h"
#include "common/percent_encoding.h"

namespace taskq::bin {

void AddRedisTlsFlags(FlagAdder& add, RedisTlsFlags* flags) {
  add.Option("--redis-tls-ca", flags->ca_file,
             "PEM CA certificates that a rediss:// server's certificate must chain to (default: "
             "the system's)")
      ->envname("TASKQ_REDIS_TLS_CA");
  add.Option("--redis-tls-cert", flags->cert_file,
             "PEM client certificate for a rediss:// server that asks for one (with "
             "--redis-tls-key)")
      ->envname("TASKQ_REDIS_TLS_CERT");
  add.Option("--redis-tls-key", flags->key_file, "PEM private key of --redis-tls-cert")
      ->envname("TASKQ_REDIS_TLS_KEY");
  add.Switch("--redis-tls-insecure", flags->insecure,
             "do not verify the rediss:// server's certificate (tests only: anyone in between "
             "can read and change everything, the password included)")
      ->envname("TASKQ_REDIS_TLS_INSECURE");
}

Result<std::string> WithRedisTlsFlags(const std::string& url, const RedisTlsFlags& flags,
                                      bool warn) {
  std::string out = url;
  const bool any = !flags.ca_file.empty() || !flags.cert_file.empty() || !flags.key_file.empty() ||
                   flags.insecure;
  if (any) {
    if (!url.starts_with("rediss://") && !url.starts_with("rediss+sentinel://") &&
        !url.starts_with("rediss+cluster://")) {
      return InvalidArgument("redis_tls",
                             "--redis-tls-* flags need a rediss://, rediss+sentinel:// or "
                             "rediss+cluster:// --redis-url");
    }
    char separator = broker::RedisUrlQueryStart(url) == std::string::npos ? '?' : '&';
    const auto add = [&](const char* name, const std::string& value) {
      if (value.empty()) return;
      out += separator;
      out += name;
      out += '=';
      out += PercentEncode(value);
      separator = '&';
    };
    add("tls_ca", flags.ca_file);
    add("tls_cert", flags.cert_file);
    add("tls_key", flags.key_file);
    if (flags.insecure) add("tls_insecure", "true");
  }
  if (out.empty()) return out;  // the managed or local Redis, chosen later
  auto endpoint = broker::ParseRedisUrl(out);
  if (!endpoint.ok()) return endpoint.status();
  if (warn && endpoint->tls.insecure) {
    spdlog::warn(
        "TLS to Redis WITHOUT certificate verification (tls_insecure): anyone between here and "
        "{} can read and change everything, the password included",
        endpoint->Describe());
  }
  return out;
}

}  // namespace taskq::bin
