#include "broker/redis_endpoint.h"

#include <algorithm>
#include <charconv>
#include <vector>

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

// "host[:port][,host[:port]...]" appended to *out; a port left out keeps Address's default.
// `empty_host`: the error when one of them names no host.
template <typename Address>
Status ParseHostList(std::string_view hosts, std::string_view empty_host,
                     std::vector<Address>* out) {
  while (true) {
    auto comma = hosts.find(',');
    std::string_view one = hosts.substr(0, comma);
    Address address;
    TASKQ_RETURN_IF_ERROR(ParseHostPort(one, &address.host, &address.port));
    if (address.host.empty()) return InvalidArgument("redis_url", std::string(empty_host));
    out->push_back(std::move(address));
    if (comma == std::string_view::npos) return Status::Ok();
    hosts = hosts.substr(comma + 1);
  }
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
  return ParseHostList(hosts, "a sentinel host is empty", &endpoint->sentinels);
}

// redis+cluster:// after the credentials: "host[:port][,host[:port]...][/[0]]".
Status ParseClusterSeeds(std::string_view rest, RedisEndpoint* endpoint) {
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    int db = 0;
    TASKQ_RETURN_IF_ERROR(ParseDb(rest.substr(slash + 1), &db));
    if (db != 0) {
      return InvalidArgument("redis_url", "a Redis Cluster has only database 0");
    }
    rest = rest.substr(0, slash);
  }
  TASKQ_RETURN_IF_ERROR(
      ParseHostList(rest, "a cluster node's host is empty", &endpoint->cluster_seeds));
  endpoint->host = endpoint->cluster_seeds.front().host;
  endpoint->port = endpoint->cluster_seeds.front().port;
  return Status::Ok();
}

std::string HostPort(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// "host:port,host:port" of sentinels or cluster seeds, as a URL writes them.
template <typename Address>
std::string HostList(const std::vector<Address>& addresses) {
  std::string hosts;
  for (const Address& a : addresses) {
    if (!hosts.empty()) hosts += ',';
    hosts += HostPort(a.host, a.port);
  }
  return hosts;
}

// The text of a query parameter that names a file or a name: percent-decoded, not empty.
Status ParseQueryText(std::string_view name, std::string_view value, std::string* out) {
  auto decoded = PercentDecode(value);
  if (!decoded.ok()) return decoded.status();
  if (decoded->empty()) return InvalidArgument("redis_url", std::string(name) + " is empty");
  for (const char c : *decoded) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("redis_url", std::string(name) + " holds a control character");
    }
  }
  *out = std::move(*decoded);
  return Status::Ok();
}

// The query of a redis://, rediss:// or (rediss|redis)+sentinel:// URL: wait_replicas,
// wait_timeout_ms, tls_* and sentinel_* parameters, each at most once. *names_tls: whether a
// tls_* parameter is among them.
Status ParseQuery(std::string_view query, RedisEndpoint* endpoint, bool* names_tls) {
  std::vector<std::string_view> seen;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return InvalidArgument("redis_url", std::string(name) + " is given twice");
    }
    seen.push_back(name);
    if (name.starts_with("tls_")) *names_tls = true;
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
    } else if (name == "tls_ca") {
      TASKQ_RETURN_IF_ERROR(ParseQueryText(name, value, &endpoint->tls.ca_file));
    } else if (name == "tls_cert") {
      TASKQ_RETURN_IF_ERROR(ParseQueryText(name, value, &endpoint->tls.cert_file));
    } else if (name == "tls_key") {
      TASKQ_RETURN_IF_ERROR(ParseQueryText(name, value, &endpoint->tls.key_file));
    } else if (name == "tls_server_name") {
      TASKQ_RETURN_IF_ERROR(ParseQueryText(name, value, &endpoint->tls.server_name));
    } else if (name == "tls_insecure") {
      if (value != "true" && value != "false") {
        return InvalidArgument("redis_url", "tls_insecure must be true or false");
      }
      endpoint->tls.insecure = value == "true";
    } else if (name == "sentinel_user") {
      TASKQ_RETURN_IF_ERROR(ParseQueryText(name, value, &endpoint->sentinel_user));
    } else if (name == "sentinel_password") {
      TASKQ_RETURN_IF_ERROR(ParseQueryText(name, value, &endpoint->sentinel_password));
    } else {
      return InvalidArgument("redis_url", "unknown parameter '" + std::string(name) +
                                              "' (known: wait_replicas, wait_timeout_ms, tls_ca, "
                                              "tls_cert, tls_key, tls_server_name, tls_insecure, "
                                              "sentinel_user, sentinel_password)");
    }
  }
  return Status::Ok();
}

// What the query set that the scheme does not allow, or half of a pair.
Status CheckQueryFitsScheme(const RedisEndpoint& endpoint, bool sentinel, bool names_tls) {
  const RedisTls& tls = endpoint.tls;
  if (!tls.enabled && names_tls) {
    return InvalidArgument("redis_url", "tls_* parameters need a rediss:// URL");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return InvalidArgument("redis_url", "tls_cert and tls_key go together");
  }
  if (!sentinel && (!endpoint.sentinel_user.empty() || !endpoint.sentinel_password.empty())) {
    return InvalidArgument("redis_url", "sentinel_* parameters need a redis+sentinel:// URL");
  }
  if (!endpoint.sentinel_user.empty() && endpoint.sentinel_password.empty()) {
    return InvalidArgument("redis_url", "sentinel_user needs sentinel_password");
  }
  return Status::Ok();
}

}  // namespace

size_t RedisUrlQueryStart(std::string_view url) {
  // The first '?' that a known parameter follows: a password before it may hold a raw '?' or
  // '@', and so may a parameter's value after it.
  static constexpr std::string_view kNames[] = {
      "wait_replicas=",   "wait_timeout_ms=", "tls_ca=",        "tls_cert=",         "tls_key=",
      "tls_server_name=", "tls_insecure=",    "sentinel_user=", "sentinel_password="};
  for (size_t q = url.find('?'); q != std::string_view::npos; q = url.find('?', q + 1)) {
    const std::string_view after = url.substr(q + 1);
    for (std::string_view name : kNames) {
      if (after.starts_with(name)) return q;
    }
  }
  // None: the query, if any, starts after the credentials (and names no known parameter,
  // which its parse then says).
  const size_t at = url.rfind('@');
  return url.find('?', at == std::string_view::npos ? 0 : at);
}

std::string RedisEndpoint::Describe() const {
  std::string auth;
  if (!user.empty() || !password.empty()) {
    auth = PercentEncode(user) + (password.empty() ? "" : ":***") + "@";
  }
  if (!unix_socket.empty()) return "unix://" + auth + unix_socket + "?db=" + std::to_string(db);
  const std::string scheme = tls.enabled ? "rediss" : "redis";
  if (via_sentinel()) {
    return scheme + "+sentinel://" + auth + HostList(sentinels) + "/" + PercentEncode(master_name) +
           "/" + std::to_string(db) + QuerySuffix();
  }
  if (via_cluster()) {
    return scheme + "+cluster://" + auth + HostList(cluster_seeds) + "/" + QuerySuffix();
  }
  return scheme + "://" + auth + HostPort(host, port) + "/" + std::to_string(db) + QuerySuffix();
}

namespace {

// A file path or name as a query value: readable in logs ('/' stays), and parsed back the same
// (what could end or split the value is percent-encoded).
std::string QueryValue(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("-._~/:+,").find(c) != std::string_view::npos;
    if (plain) {
      out += c;
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      const auto byte = static_cast<unsigned char>(c);
      out += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return out;
}

}  // namespace

std::string RedisEndpoint::QuerySuffix() const {
  std::string query;
  const auto add = [&](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    query += query.empty() ? '?' : '&';
    query.append(name);
    query += '=';
    query += value;
  };
  if (wait_replicas != 0) {
    add("wait_replicas", std::to_string(wait_replicas));
    add("wait_timeout_ms", std::to_string(wait_timeout.count()));
  }
  add("tls_ca", QueryValue(tls.ca_file));
  add("tls_cert", QueryValue(tls.cert_file));
  add("tls_key", QueryValue(tls.key_file));
  add("tls_server_name", QueryValue(tls.server_name));
  if (tls.insecure) add("tls_insecure", "true");
  add("sentinel_user", QueryValue(sentinel_user));
  if (!sentinel_password.empty()) add("sentinel_password", "***");
  return query;
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  RedisEndpoint endpoint;
  constexpr std::string_view kUnix = "unix://";
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
  std::string_view rest = url;
  endpoint.tls.enabled = rest.starts_with("rediss");
  rest.remove_prefix(rest.starts_with("rediss") ? 6 : rest.starts_with("redis") ? 5 : 0);
  const bool sentinel = rest.starts_with("+sentinel://");
  if (sentinel) rest.remove_prefix(9);
  const bool cluster = rest.starts_with("+cluster://");
  if (cluster) rest.remove_prefix(8);
  if (!rest.starts_with("://") || rest.size() == url.size()) {
    return InvalidArgument("redis_url",
                           "must start with redis://, rediss://, redis+sentinel://, "
                           "rediss+sentinel://, redis+cluster://, rediss+cluster:// or unix://");
  }
  rest.remove_prefix(3);
  if (rest.find('#') != std::string_view::npos) {
    return InvalidArgument("redis_url", "a fragment is not supported");
  }
  bool names_tls = false;
  if (auto q = RedisUrlQueryStart(rest); q != std::string_view::npos) {
    TASKQ_RETURN_IF_ERROR(ParseQuery(rest.substr(q + 1), &endpoint, &names_tls));
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
  TASKQ_RETURN_IF_ERROR(CheckQueryFitsScheme(endpoint, sentinel, names_tls));
  if (sentinel) {
    TASKQ_RETURN_IF_ERROR(ParseSentinels(rest, &endpoint));
    return endpoint;
  }
  if (cluster) {
    TASKQ_RETURN_IF_ERROR(ParseClusterSeeds(rest, &endpoint));
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
