#include "broker/redis_endpoint.h"

#include <charconv>

#include "common/percent_encoding.h"

namespace taskq::broker {
namespace {

bool ParseInt(std::string_view text, int* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Decodes %XX escapes, so passwords may hold '@', ':' or '/'.
Result<std::string> PercentDecode(std::string_view text) {
  auto decoded = taskq::PercentDecode(text, /*reject_nul=*/false);
  if (!decoded) return InvalidArgument("redis_url", "bad percent escape");
  return std::move(*decoded);
}

// The "/db" part of a URL: a non-negative integer; empty leaves *db as it is.
Status ParseDb(std::string_view text, int* db) {
  if (!text.empty() && (!ParseInt(text, db) || *db < 0)) {
    return InvalidArgument("redis_url", "database must be a non-negative integer");
  }
  return Status::Ok();
}

// A host name or IPv4 address, or (bracketed in the URL) an IPv6 address: anything else could
// not be written back into a URL the same way (Describe) and is no host a resolver knows.
bool IsValidHost(std::string_view host, bool bracketed) {
  if (bracketed && host.find(':') == std::string_view::npos) return false;
  for (const char c : host) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool ok =
        bracketed ? hex || c == ':' || c == '.' : alnum || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// host[:port] or [v6]:port, into *host and *port (left as they are when absent).
Status ParseHostPort(std::string_view rest, std::string* host_out, int* port) {
  std::string_view host = rest;
  const bool bracketed = !rest.empty() && rest[0] == '[';
  if (bracketed) {  // [::1]:6379
    auto close = rest.find(']');
    if (close == std::string_view::npos) return InvalidArgument("redis_url", "unclosed '['");
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return InvalidArgument("redis_url", "bad host");
    if (!rest.empty() && !ParseInt(rest.substr(1), port)) {
      return InvalidArgument("redis_url", "port must be an integer");
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    if (!ParseInt(rest.substr(colon + 1), port)) {
      return InvalidArgument("redis_url", "port must be an integer");
    }
  }
  if (*port <= 0 || *port > 65535) return InvalidArgument("redis_url", "port must be in 1..65535");
  if (!IsValidHost(host, bracketed)) return InvalidArgument("redis_url", "bad host");
  if (!host.empty()) *host_out = std::string(host);
  return Status::Ok();
}

// redis+sentinel:// after the credentials: "host[:port][,host[:port]...]/master_name[/db]".
Status ParseSentinels(std::string_view rest, RedisEndpoint* endpoint) {
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return InvalidArgument("redis_url", "a redis+sentinel URL needs /master_name after the hosts");
  }
  std::string_view path = rest.substr(slash + 1);
  std::string_view hosts = rest.substr(0, slash);
  if (auto db_slash = path.find('/'); db_slash != std::string_view::npos) {
    TASKQ_RETURN_IF_ERROR(ParseDb(path.substr(db_slash + 1), &endpoint->db));
    path = path.substr(0, db_slash);
  }
  auto name = PercentDecode(path);
  if (!name.ok()) return name.status();
  if (name->empty()) return InvalidArgument("redis_url", "the master name is empty");
  endpoint->master_name = std::move(*name);
  while (true) {
    auto comma = hosts.find(',');
    std::string_view one = hosts.substr(0, comma);
    SentinelAddress sentinel;
    TASKQ_RETURN_IF_ERROR(ParseHostPort(one, &sentinel.host, &sentinel.port));
    if (one.empty() || sentinel.host.empty()) {
      return InvalidArgument("redis_url", "a sentinel host is empty");
    }
    endpoint->sentinels.push_back(std::move(sentinel));
    if (comma == std::string_view::npos) break;
    hosts = hosts.substr(comma + 1);
  }
  return Status::Ok();
}

std::string HostPort(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// "wait_replicas=N&wait_timeout_ms=T", the query of a redis:// or redis+sentinel:// URL.
Status ParseQuery(std::string_view query, RedisEndpoint* endpoint) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    int n = 0;
    if (name == "wait_replicas") {
      if (!ParseInt(value, &n) || n < 0 || n > 16) {
        return InvalidArgument("redis_url", "wait_replicas must be an integer in 0..16");
      }
      endpoint->wait_replicas = n;
    } else if (name == "wait_timeout_ms") {
      if (!ParseInt(value, &n) || n < 1 || n > 5000) {
        return InvalidArgument(
            "redis_url",
            "wait_timeout_ms must be an integer in 1..5000 (under the 10 s reply timeout)");
      }
      endpoint->wait_timeout = std::chrono::milliseconds(n);
    } else {
      return InvalidArgument("redis_url", "unknown parameter '" + std::string(name) +
                                              "' (known: wait_replicas, wait_timeout_ms)");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string RedisEndpoint::Describe() const {
  std::string auth;
  if (!user.empty() || !password.empty()) {
    auth = PercentEncode(user) + (password.empty() ? "" : ":***") + "@";
  }
  if (!unix_socket.empty()) return "unix://" + auth + unix_socket + "?db=" + std::to_string(db);
  if (via_sentinel()) {
    std::string hosts;
    for (const SentinelAddress& s : sentinels) {
      if (!hosts.empty()) hosts += ',';
      hosts += HostPort(s.host, s.port);
    }
    return "redis+sentinel://" + auth + hosts + "/" + PercentEncode(master_name) + "/" +
           std::to_string(db) + QuerySuffix();
  }
  return "redis://" + auth + HostPort(host, port) + "/" + std::to_string(db) + QuerySuffix();
}

std::string RedisEndpoint::QuerySuffix() const {
  if (wait_replicas == 0) return "";
  return "?wait_replicas=" + std::to_string(wait_replicas) +
         "&wait_timeout_ms=" + std::to_string(wait_timeout.count());
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  RedisEndpoint endpoint;
  constexpr std::string_view kRedis = "redis://";
  constexpr std::string_view kUnix = "unix://";
  constexpr std::string_view kSentinel = "redis+sentinel://";
  // A URL has no raw spaces or control characters (a password with some is percent-encoded);
  // refusing them keeps them out of host names, socket paths and logs.
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return InvalidArgument("redis_url",
                             "holds a space or control character (percent-encode "
                             "them in a password)");
    }
  }
  if (url.starts_with(kUnix)) {
    std::string_view rest = url.substr(kUnix.size());
    if (auto q = rest.find('?'); q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      rest = rest.substr(0, q);
      if (!query.starts_with("db=") || !ParseInt(query.substr(3), &endpoint.db)) {
        return InvalidArgument("redis_url", "unix URL query must be ?db=N");
      }
    }
    if (rest.empty() || rest[0] != '/') {
      return InvalidArgument("redis_url", "unix URL needs an absolute socket path");
    }
    endpoint.unix_socket = std::string(rest);
    return endpoint;
  }
  const bool sentinel = url.starts_with(kSentinel);
  if (!url.starts_with(kRedis) && !sentinel) {
    return InvalidArgument("redis_url",
                           "must start with redis://, redis+sentinel:// or unix:// (rediss:// TLS "
                           "is not supported by Debian 12's hiredis)");
  }
  std::string_view rest = url.substr(sentinel ? kSentinel.size() : kRedis.size());
  if (rest.find('#') != std::string_view::npos) {
    return InvalidArgument("redis_url", "a fragment is not supported");
  }
  // The query starts after the credentials (a password may hold a percent-encoded '?' only).
  const auto at_sign = rest.rfind('@');
  if (auto q = rest.find('?', at_sign == std::string_view::npos ? 0 : at_sign);
      q != std::string_view::npos) {
    TASKQ_RETURN_IF_ERROR(ParseQuery(rest.substr(q + 1), &endpoint));
    rest = rest.substr(0, q);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::string_view user = auth;
    std::string_view password;
    if (auto colon = auth.find(':'); colon != std::string_view::npos) {
      user = auth.substr(0, colon);
      password = auth.substr(colon + 1);
    }
    auto decoded_user = PercentDecode(user);
    auto decoded_password = PercentDecode(password);
    if (!decoded_user.ok()) return decoded_user.status();
    if (!decoded_password.ok()) return decoded_password.status();
    endpoint.user = *decoded_user;
    endpoint.password = *decoded_password;
  }
  if (sentinel) {
    TASKQ_RETURN_IF_ERROR(ParseSentinels(rest, &endpoint));
    return endpoint;
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    TASKQ_RETURN_IF_ERROR(ParseDb(rest.substr(slash + 1), &endpoint.db));
    rest = rest.substr(0, slash);
  }
  TASKQ_RETURN_IF_ERROR(ParseHostPort(rest, &endpoint.host, &endpoint.port));
  return endpoint;
}

}  // namespace taskq::broker
