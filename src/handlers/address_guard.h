// Keeps handlers that fetch or call user-supplied URLs (webhook, image-resize URL sources) from
// reaching the worker's own network: loopback, private and link-local ranges, cloud metadata
// endpoints and the like (server-side request forgery). A host name is resolved once and the
// caller connects to the address that was checked, so a DNS answer that changes between the check
// and the connection (DNS rebinding) cannot redirect the request.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/status.h"

namespace taskq::handlers {

struct IpAddress {
  bool is_v4 = true;
  // Network byte order; an IPv4 address uses the first 4 bytes, the rest stay zero.
  std::array<uint8_t, 16> bytes{};

  // Dotted quad ("10.0.0.1") or IPv6 text ("::ffff:10.0.0.1", "[::1]"); nothing else (no
  // "0x7f.1" or "2130706433" forms, no zone ids).
  static std::optional<IpAddress> Parse(std::string_view text);
  // Canonical text without brackets: "10.0.0.1", "::ffff:10.0.0.1".
  std::string ToString() const;
  // The IPv4 address an IPv6 address stands for, when it embeds one: IPv4-mapped
  // (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, SIIT), IPv4-compatible (::a.b.c.d),
  // NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:AABB:CCDD::).
  std::optional<IpAddress> EmbeddedV4() const;

  bool operator==(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress network;  // host bits are zero
  int prefix_length = 0;

  bool Contains(const IpAddress& address) const;
  std::string ToString() const;  // "10.0.0.0/8"
};

// "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). Host bits must be zero, so that a
// typo such as "10.1.2.3/8" is not silently read as all of 10/8.
Result<Cidr> ParseCidr(std::string_view text);

// Why nobody may reach `address` without an allowlist entry ("loopback", "private", "cloud
// metadata", ...), or nullopt for an ordinary public address. An IPv6 form of an IPv4 address is
// judged by that IPv4 address.
std::optional<std::string> ForbiddenReason(const IpAddress& address);

class AddressGuard {
 public:
  // `allow_cidrs` permit addresses that would be refused, e.g. "127.0.0.0/8" for tests or
  // "10.20.0.0/16" for an internal receiver. Errors name the bad entry.
  static Result<AddressGuard> Create(const std::vector<std::string>& allow_cidrs);

  // OK for a public or allowlisted address; otherwise kInvalidArgument whose message names the
  // address and why it is refused, e.g. "127.0.0.1 is a loopback address".
  Status Check(const IpAddress& address) const;

  // Resolves `host` (a name, or an IP literal with or without brackets) once with getaddrinfo and
  // returns the first address that passes Check; connect to exactly that one. kInvalidArgument when
  // every address is refused (the message names the first), kUnavailable when the name does not
  // resolve (DNS may recover).
  Result<IpAddress> Resolve(const std::string& host) const;

 private:
  explicit AddressGuard(std::vector<Cidr> allowed) : allowed_(std::move(allowed)) {}
  bool Allowed(const IpAddress& address) const;
  // Why `address` is refused, or nullopt when it may be reached.
  std::optional<std::string> Refusal(const IpAddress& address) const;

  std::vector<Cidr> allowed_;
};

}  // namespace taskq::handlers
