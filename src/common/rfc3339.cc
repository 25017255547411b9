#include "common/rfc3339.h"

#include <chrono>
#include <cstdio>

namespace taskq {
namespace {

bool Digits(std::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

}  // namespace

std::optional<int64_t> ParseRfc3339Ms(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!Digits(text, 0, 4, &year) || text.size() < 20 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' || !Digits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !Digits(text, 11, 2, &hour) ||
      text[13] != ':' || !Digits(text, 14, 2, &minute) || text[16] != ':' ||
      !Digits(text, 17, 2, &second)) {
    return std::nullopt;
  }
  namespace c = std::chrono;
  const c::year_month_day date{c::year(year), c::month(static_cast<unsigned>(month)),
                               c::day(static_cast<unsigned>(day))};
  // second 60 is a leap second: taken as the next second's start.
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    bool rounded_up = false;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) {
        millis = millis * 10 + (text[pos] - '0');
      } else if (text[pos] != '0' && !rounded_up) {
        // A due time is a "no earlier than": a fraction finer than a millisecond rounds up.
        rounded_up = true;
        ++millis;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t d = digits; d < 3; ++d) millis *= 10;
  }
  if (pos >= text.size()) return std::nullopt;
  int64_t offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh, om;
    if (!Digits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !Digits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const int64_t days = c::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  const int64_t result = seconds * 1000 + millis;
  // An offset may carry a date at the edge of the range outside it (9999-12-31T23:00:00-02:00
  // is in the year 10000 in UTC): only instants that UTC can write with four-digit years count.
  constexpr int64_t kFirstMs = -62167219200000;  // 0000-01-01T00:00:00Z
  constexpr int64_t kEndMs = 253402300800000;    // 10000-01-01T00:00:00Z
  if (result < kFirstMs || result >= kEndMs) return std::nullopt;
  return result;
}

std::string FormatRfc3339Ms(int64_t unix_ms) {
  namespace c = std::chrono;
  int64_t seconds = unix_ms / 1000, millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  int64_t days = seconds / 86400, rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    days -= 1;
  }
  const c::year_month_day date{c::sys_days(c::days(days))};
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(rest / 3600),
                static_cast<int>(rest / 60 % 60), static_cast<int>(rest % 60),
                static_cast<int>(millis));
  return buffer;
}

}  // namespace taskq
