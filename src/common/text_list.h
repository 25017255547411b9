// Small text helpers: lists written as text ("a,b,c" in flags and environment variables, ids in
// an event entry), and ASCII case-insensitive prefixes (HTTP schemes and header values).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace taskq {

// The items of `text` between `separator`s, empty items left out ("a,,b," gives a and b). The
// views point into `text`.
std::vector<std::string_view> SplitList(std::string_view text, char separator = ',');

// The items (strings or string views) with `separator` between them: "a, b, c" for a message.
template <typename Range>
std::string JoinList(const Range& items, std::string_view separator = ", ") {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += separator;
    out += std::string_view(item);
    first = false;
  }
  return out;
}

// True when `text` begins with `lower_prefix` (given in lower case), ASCII case aside.
bool StartsWithIgnoringCase(std::string_view text, std::string_view lower_prefix);

}  // namespace taskq
