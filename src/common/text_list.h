// Lists written as text: "a,b,c" in flags and environment variables, ids in an event entry.
#pragma once

#include <string_view>
#include <vector>

namespace taskq {

// The items of `text` between `separator`s, empty items left out ("a,,b," gives a and b). The
// views point into `text`.
std::vector<std::string_view> SplitList(std::string_view text, char separator = ',');

}  // namespace taskq
