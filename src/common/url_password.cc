#include "common/url_password.h"

#include <algorithm>

namespace taskq {

namespace {

// The URL with the value of every query parameter whose name ends in "password" (a Redis URL's
// sentinel_password) replaced by ***.
std::string MaskQueryPasswords(std::string_view url) {
  constexpr std::string_view kName = "password=";
  std::string out;
  size_t from = 0;
  for (size_t at = url.find(kName); at != std::string_view::npos; at = url.find(kName, at + 1)) {
    if (url.find_last_of("?&", at) == std::string_view::npos) continue;  // not in a query
    const size_t value = at + kName.size();
    if (value < from) continue;
    out.append(url.substr(from, value - from));
    out += "***";
    from = std::min(url.find('&', value), url.size());
  }
  out.append(url.substr(from));
  return out;
}

}  // namespace

std::string MaskUrlPassword(std::string_view original) {
  const std::string masked_query = MaskQueryPasswords(original);
  const std::string_view url = masked_query;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t authority = scheme_end + 3;
  // The user information ends at the last '@', as taskq's URL parsers read it: a password may
  // hold a raw '@', '/' or '?' when its writer did not percent-encode them.
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string(url);
  const size_t colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace taskq
