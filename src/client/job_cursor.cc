#include "taskq/job_cursor.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "common/base64.h"

namespace taskq {
namespace {

Status BadCursor() {
  return InvalidArgument("cursor", "must be the next_cursor of a previous page, or an offset");
}

bool IsDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A finite number as Redis writes a score ("17", "-2.5", "1.5e+20").
bool IsScore(const std::string& text) {
  if (text.empty() || text.size() > 32 ||
      text.find_first_not_of("0123456789.-+eE") != std::string::npos) {
    return false;
  }
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

}  // namespace

std::string JobCursor::Encode() const {
  if (!keyed()) return std::to_string(offset);
  // The score has no space; the id follows the first one.
  std::string text = Base64Encode(after_score + " " + after_id);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return "k" + text;
}

Result<JobCursor> JobCursor::Decode(std::string_view text) {
  if (text.size() > kMaxTextBytes) return BadCursor();
  if (IsDigits(text)) {
    if (text.size() > 15) return BadCursor();  // far past any state's end
    return AtOffset(std::stoll(std::string(text)));
  }
  if (text.size() < 2 || text[0] != 'k') return BadCursor();
  std::string base64(text.substr(1));
  for (char& c : base64) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return BadCursor();
  }
  while (base64.size() % 4 != 0) base64 += '=';
  const std::optional<std::string> key = Base64Decode(base64);
  if (!key) return BadCursor();
  const size_t space = key->find(' ');
  if (space == std::string::npos || space + 1 == key->size()) return BadCursor();
  JobCursor cursor = After(key->substr(0, space), key->substr(space + 1));
  if (!IsScore(cursor.after_score)) return BadCursor();
  return cursor;
}

}  // namespace taskq
