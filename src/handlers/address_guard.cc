#include "handlers/address_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

namespace taskq::handlers {
namespace {

struct SpecialRange {
  const char* cidr;
  const char* reason;
};

// Checked in order; the first match gives the reason, so the narrow metadata entries come before
// the ranges that contain them. IPv4-mapped, -compatible, NAT64 and 6to4 addresses never reach
// the IPv6 table: they are judged by the IPv4 address they carry.
constexpr SpecialRange kV4Ranges[] = {
    {"169.254.169.254/32", "a cloud metadata address"},
    {"0.0.0.0/32", "the unspecified address"},
    {"0.0.0.0/8", "a \"this network\" address"},
    {"10.0.0.0/8", "a private address"},
    {"100.64.0.0/10", "a carrier-grade NAT address"},
    {"127.0.0.0/8", "a loopback address"},
    {"169.254.0.0/16", "a link-local address"},
    {"172.16.0.0/12", "a private address"},
    {"192.0.0.0/24", "an IETF protocol assignment address"},
    {"192.168.0.0/16", "a private address"},
    {"198.18.0.0/15", "a benchmarking address"},
    {"224.0.0.0/4", "a multicast address"},
    {"240.0.0.0/4", "a reserved or broadcast address"},
};

constexpr SpecialRange kV6Ranges[] = {
    {"fd00:ec2::254/128", "a cloud metadata address"},
    {"::/128", "the unspecified address"},
    {"::1/128", "a loopback address"},
    {"64:ff9b:1::/48", "a local-use NAT64 address"},
    {"100::/64", "a discard-only address"},
    {"2001::/32", "a Teredo tunnel address"},
    {"fc00::/7", "a unique local address"},
    {"fe80::/10", "a link-local address"},
    {"fec0::/10", "a site-local address"},
    {"ff00::/8", "a multicast address"},
};

template <size_t N>
std::vector<std::pair<Cidr, const char*>> Compile(const SpecialRange (&ranges)[N]) {
  std::vector<std::pair<Cidr, const char*>> out;
  for (const SpecialRange& range : ranges) {
    // The tables are constants, so a parse failure is a bug caught by the unit tests.
    Result<Cidr> cidr = ParseCidr(range.cidr);
    if (cidr.ok()) out.emplace_back(*cidr, range.reason);
  }
  return out;
}

const std::vector<std::pair<Cidr, const char*>>& V4Ranges() {
  static const std::vector<std::pair<Cidr, const char*>> ranges = Compile(kV4Ranges);
  return ranges;
}

const std::vector<std::pair<Cidr, const char*>>& V6Ranges() {
  static const std::vector<std::pair<Cidr, const char*>> ranges = Compile(kV6Ranges);
  return ranges;
}

bool StartsWith(const IpAddress& a, std::initializer_list<uint8_t> prefix) {
  size_t i = 0;
  for (uint8_t b : prefix) {
    if (a.bytes[i++] != b) return false;
  }
  return true;
}

IpAddress V4FromBytes(const uint8_t* p) {
  IpAddress out;
  std::memcpy(out.bytes.data(), p, 4);
  return out;
}

struct AddrinfoDeleter {
  void operator()(addrinfo* info) const { ::freeaddrinfo(info); }
};

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  IpAddress out;
  if (::inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) return out;
  out.is_v4 = false;
  if (::inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) return out;
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(is_v4 ? AF_INET : AF_INET6, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::optional<IpAddress> IpAddress::EmbeddedV4() const {
  if (is_v4) return std::nullopt;
  const uint8_t* b = bytes.data();
  const bool zero_80 = std::all_of(b, b + 10, [](uint8_t x) { return x == 0; });
  if (zero_80 && b[10] == 0xff && b[11] == 0xff) return V4FromBytes(b + 12);  // ::ffff:a.b.c.d
  // ::a.b.c.d (deprecated IPv4-compatible). "::" and "::1" are not: they are IPv6's own
  // unspecified and loopback addresses, which the IPv6 table names.
  if (zero_80 && b[10] == 0 && b[11] == 0 &&
      !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1)) {
    return V4FromBytes(b + 12);
  }
  if (StartsWith(*this, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0})) {
    return V4FromBytes(b + 12);  // ::ffff:0:a.b.c.d, IPv4-translated (SIIT)
  }
  if (StartsWith(*this, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return V4FromBytes(b + 12);  // 64:ff9b::/96, the well-known NAT64 prefix
  }
  if (StartsWith(*this, {0x20, 0x02})) return V4FromBytes(b + 2);  // 2002::/16, 6to4
  return std::nullopt;
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.is_v4 != network.is_v4) return false;
  const int full_bytes = prefix_length / 8;
  if (std::memcmp(address.bytes.data(), network.bytes.data(), full_bytes) != 0) return false;
  const int rest = prefix_length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[full_bytes] & mask) == network.bytes[full_bytes];
}

std::string Cidr::ToString() const {
  return network.ToString() + "/" + std::to_string(prefix_length);
}

Result<Cidr> ParseCidr(std::string_view text) {
  // Lists such as "10.0.0.0/8, 192.168.0.0/16" arrive split at the commas only.
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const std::string quoted = "\"" + std::string(text) + "\"";
  const size_t slash = text.find('/');
  std::optional<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address) {
    return InvalidArgument("",
                           quoted + " is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)");
  }
  const int max_length = address->is_v4 ? 32 : 128;
  int length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || length < 0 ||
        length > max_length) {
      return InvalidArgument(
          "", quoted + ": the prefix length must be 0 to " + std::to_string(max_length));
    }
  }
  Cidr cidr{*address, length};
  Cidr masked = cidr;
  for (int bit = length; bit < max_length; ++bit) {
    masked.network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (!(masked.network == cidr.network)) {
    return InvalidArgument("",
                           quoted + " has host bits set; did you mean " + masked.ToString() + "?");
  }
  return cidr;
}

std::optional<std::string> ForbiddenReason(const IpAddress& address) {
  if (std::optional<IpAddress> v4 = address.EmbeddedV4()) {
    std::optional<std::string> inner = ForbiddenReason(*v4);
    if (!inner) return std::nullopt;
    return "an IPv6 form of " + v4->ToString() + ", " + *inner;
  }
  for (const auto& [cidr, reason] : address.is_v4 ? V4Ranges() : V6Ranges()) {
    if (cidr.Contains(address)) return std::string(reason);
  }
  return std::nullopt;
}

Result<AddressGuard> AddressGuard::Create(const std::vector<std::string>& allow_cidrs) {
  std::vector<Cidr> allowed;
  for (const std::string& text : allow_cidrs) {
    Result<Cidr> cidr = ParseCidr(text);
    if (!cidr.ok()) return cidr.status();
    allowed.push_back(*cidr);
  }
  return AddressGuard(std::move(allowed));
}

bool AddressGuard::Allowed(const IpAddress& address) const {
  const std::optional<IpAddress> v4 = address.EmbeddedV4();
  for (const Cidr& cidr : allowed_) {
    if (cidr.Contains(address) || (v4 && cidr.Contains(*v4))) return true;
  }
  return false;
}

std::optional<std::string> AddressGuard::Refusal(const IpAddress& address) const {
  if (Allowed(address)) return std::nullopt;
  std::optional<std::string> reason = ForbiddenReason(address);
  if (!reason) return std::nullopt;
  return *reason + " (not in the allowlist of permitted CIDRs)";
}

Status AddressGuard::Check(const IpAddress& address) const {
  std::optional<std::string> refusal = Refusal(address);
  if (!refusal) return Status::Ok();
  return InvalidArgument("", address.ToString() + " is " + *refusal);
}

Result<IpAddress> AddressGuard::Resolve(const std::string& host) const {
  if (std::optional<IpAddress> literal = IpAddress::Parse(host)) {
    TASKQ_RETURN_IF_ERROR(Check(*literal));
    return *literal;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // Only families this machine can use, so the first permitted address is one we can connect to.
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* raw = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, AddrinfoDeleter> list(raw);
  if (rc != 0) {
    return Unavailable("cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string first_refusal;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    IpAddress address;
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      std::memcpy(address.bytes.data(), &sin->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      address.is_v4 = false;
      std::memcpy(address.bytes.data(), &sin6->sin6_addr, 16);
    } else {
      continue;
    }
    if (!Refusal(address)) return address;
    // The message says what kind of address, not which: whoever reads the job's error (the
    // read scope too) must not learn what internal names resolve to.
    if (first_refusal.empty()) {
      const std::optional<IpAddress> v4 = address.EmbeddedV4();
      first_refusal = host + " resolves only to refused addresses, the first " +
                      ForbiddenReason(v4 ? *v4 : address).value_or("refused") +
                      " (not in the allowlist of permitted CIDRs)";
    }
  }
  if (!first_refusal.empty()) return InvalidArgument("", first_refusal);
  return Unavailable("cannot resolve " + host + ": no IPv4 or IPv6 address");
}

}  // namespace taskq::handlers
