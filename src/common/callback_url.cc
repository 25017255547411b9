#include "common/callback_url.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace taskq {
namespace {

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char lower, char c) {
           return std::tolower(static_cast<unsigned char>(c)) == lower;
         });
}

}  // namespace

Status CheckCallbackUrl(std::string_view field_name, std::string_view url) {
  const std::string field(field_name);
  if (url.size() > kMaxCallbackUrlBytes) {
    return InvalidArgument(field, "must be at most 8192 bytes");
  }
  if (!std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return InvalidArgument(field, "must be printable ASCII without spaces (percent-encode)");
  }
  size_t rest;
  if (StartsWithNoCase(url, "https://")) {
    rest = 8;
  } else if (StartsWithNoCase(url, "http://")) {
    rest = 7;
  } else {
    return InvalidArgument(field, "must be an http:// or https:// URL");
  }
  const std::string_view after = url.substr(rest);
  const std::string_view authority = after.substr(0, after.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument(field, "must not hold user:password@");
  }
  if (authority.empty() || authority.front() == ':') {
    return InvalidArgument(field, "must name a host");
  }
  return Status::Ok();
}

}  // namespace taskq
