#include "broker/token_text.h"

#include <algorithm>
#include <limits>

namespace taskq::broker {

std::string TokenText(int64_t token) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  uint64_t value = token < 0 ? 0 : static_cast<uint64_t>(token);
  std::string out;
  do {
    out.push_back(kDigits[value % 36]);
    value /= 36;
  } while (value != 0);
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<int64_t> ParseTokenText(std::string_view text) {
  if (text.empty() || text.size() > 13) return std::nullopt;  // 36^13 > 2^63
  uint64_t value = 0;
  for (char c : text) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'z') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    value = value * 36 + digit;
  }
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(value);
}

}  // namespace taskq::broker
