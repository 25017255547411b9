#include "common/url_password.h"

namespace taskq {

std::string MaskUrlPassword(std::string_view url) {
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
