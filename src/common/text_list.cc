#include "common/text_list.h"

#include <cctype>

namespace taskq {

std::vector<std::string_view> SplitList(std::string_view text, char separator) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    const size_t at = text.find(separator);
    const std::string_view item = text.substr(0, at);
    text = at == std::string_view::npos ? std::string_view() : text.substr(at + 1);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != lower_prefix[i]) return false;
  }
  return true;
}

}  // namespace taskq
