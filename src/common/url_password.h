// Hiding the password in a URL before it is logged or shown: "smtp://mailer:s3cret@mail:587"
// becomes "smtp://mailer:***@mail:587". Works on the text alone, so it also masks URLs that do
// not parse (a raw '@' in the password, an unknown scheme).
#pragma once

#include <string>
#include <string_view>

namespace taskq {

// The URL with everything between the first ':' after "scheme://" and the last '@' replaced by
// "***" (when the ':' comes before that '@'). A URL without a password comes back unchanged.
std::string MaskUrlPassword(std::string_view url);

}  // namespace taskq
