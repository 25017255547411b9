#include "common/text_list.h"

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

}  // namespace taskq
