#include "scheduler/cron_expression.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <exception>

namespace taskq::schedule {
namespace {

namespace chrono = std::chrono;

enum Field { kSecond, kMinute, kHour, kDayOfMonth, kMonth, kDayOfWeek };

struct FieldSpec {
  const char* name;
  int min;
  int max;
  // What * and "a/n" run up to: day-of-week accepts 7 but its cycle ends at 6.
  int star_max;
};

constexpr FieldSpec kFields[] = {
    {"second", 0, 59, 59},       {"minute", 0, 59, 59}, {"hour", 0, 23, 23},
    {"day-of-month", 1, 31, 31}, {"month", 1, 12, 12},  {"day-of-week", 0, 7, 6},
};

constexpr std::string_view kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::string_view kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMillisPerDay = kSecondsPerDay * 1000;
constexpr int kLastYear = 9999;
// The Gregorian calendar, weekdays included, repeats every 400 years: a day rule with no match in
// that span never matches.
constexpr int kSearchYears = 400;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool EqualsUpper(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (Upper(text[i]) != upper[i]) return false;
  }
  return true;
}

// A character as an error message shows it; bytes outside printable ASCII as hex.
std::string Quote(char c) {
  if (c > ' ' && c < 127) return std::string("'") + c + "'";
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "byte 0x%02X", static_cast<unsigned char>(c));
  return buffer;
}

// The lowest set bit of `mask` at or above `from`, or -1.
int NextBit(uint64_t mask, int from) {
  if (from >= 64) return -1;
  const uint64_t rest = mask & (~uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

uint64_t BitRange(int lo, int hi) {
  uint64_t bits = 0;
  for (int v = lo; v <= hi; ++v) bits |= uint64_t{1} << v;
  return bits;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

// Parses one expression into a CronExpression. Positions are 0-based offsets into the text as
// given; messages print them 1-based.
class CronParser {
 public:
  explicit CronParser(std::string_view text) : text_(text) {}

  Result<CronExpression> Parse() {
    if (text_.size() > CronExpression::kMaxTextLength) {
      return Error(CronExpression::kMaxTextLength,
                   "expression is longer than " + std::to_string(CronExpression::kMaxTextLength) +
                       " characters");
    }
    size_t begin = 0, end = text_.size();
    while (begin < end && IsSpace(text_[begin])) ++begin;
    while (end > begin && IsSpace(text_[end - 1])) --end;
    if (begin == end) return Error(0, "expression is empty");
    Status status = text_[begin] == '@' ? ParseMacro(begin, end) : ParseFields(begin, end);
    if (!status.ok()) return status;
    expr_.text_ = std::string(text_.substr(begin, end - begin));
    return std::move(expr_);
  }

 private:
  Status Error(size_t pos, std::string reason) const {
    return InvalidArgument("", "position " + std::to_string(pos + 1) + ": " + reason);
  }

  Status ParseFields(size_t begin, size_t end) {
    struct Span {
      size_t begin, end;
    };
    Span spans[7];
    size_t count = 0;
    for (size_t pos = begin; pos < end;) {
      const size_t start = pos;
      while (pos < end && !IsSpace(text_[pos])) ++pos;
      if (count < 7) spans[count] = {start, pos};
      ++count;
      while (pos < end && IsSpace(text_[pos])) ++pos;
    }
    if (count < 5 || count > 6) {
      // Too few: point past the end, where a field is missing; too many: at the 7th field.
      return Error(count < 5 ? end : spans[6].begin,
                   "expected 5 or 6 fields, found " + std::to_string(count));
    }
    expr_.has_seconds_ = count == 6;
    const int first = count == 6 ? kSecond : kMinute;
    for (size_t i = 0; i < count; ++i) {
      TASKQ_RETURN_IF_ERROR(
          ParseField(static_cast<Field>(first + i), spans[i].begin, spans[i].end));
    }
    return Status::Ok();
  }

  Status ParseField(Field field, size_t begin, size_t end) {
    const bool star = text_[begin] == '*' || text_[begin] == '?';
    if (field == kMinute) minute_star_ = star;
    if (field == kHour) expr_.fixed_time_ = !star && !minute_star_;
    if (field == kDayOfMonth) expr_.days_star_ = star;
    if (field == kDayOfWeek) expr_.weekdays_star_ = star;
    if (field == kSecond) expr_.seconds_ = 0;
    for (size_t pos = begin;;) {
      size_t comma = pos;
      while (comma < end && text_[comma] != ',') ++comma;
      if (comma == pos) {
        return Error(comma < end ? comma : pos - 1,
                     "empty item in the " + std::string(kFields[field].name) + " list");
      }
      TASKQ_RETURN_IF_ERROR(ParseItem(field, pos, comma));
      if (comma == end) return Status::Ok();
      pos = comma + 1;
    }
  }

  // One list item in [pos, end).
  Status ParseItem(Field field, size_t pos, size_t end) {
    const FieldSpec& spec = kFields[field];
    const bool day_field = field == kDayOfMonth || field == kDayOfWeek;
    const size_t begin = pos;
    if (text_[pos] == '?') {
      if (!day_field) return Error(pos, "? is only allowed in day-of-month and day-of-week");
      if (pos + 1 < end) return Unexpected(field, pos + 1);
      Set(field, spec.min, spec.star_max, 1);
      return Status::Ok();
    }
    if (field == kDayOfWeek && Upper(text_[pos]) == 'L' && pos + 1 == end) {
      return Error(pos, "day-of-week L needs a weekday before it, e.g. 5L or FRIL");
    }
    if (field == kDayOfMonth && Upper(text_[pos]) == 'L') {
      if (pos + 1 == end) {
        expr_.last_day_ = true;
        return Status::Ok();
      }
      if (Upper(text_[pos + 1]) == 'W' && pos + 2 == end) {
        expr_.last_weekday_ = true;
        return Status::Ok();
      }
      return Error(pos + 1, "unexpected " + Quote(text_[pos + 1]) +
                                " after L (day-of-month allows L and LW)");
    }
    int lo, hi;
    if (text_[pos] == '*') {
      lo = spec.min;
      hi = spec.star_max;
      ++pos;
      if (pos < end && text_[pos] != '/') return Unexpected(field, pos);
    } else {
      TASKQ_RETURN_IF_ERROR(ParseValue(field, &pos, end, &lo));
      if (field == kDayOfMonth && pos < end && Upper(text_[pos]) == 'W') {
        if (pos + 1 < end) return Unexpected(field, pos + 1);
        expr_.nearest_weekday_ |= uint32_t{1} << lo;
        return Status::Ok();
      }
      if (field == kDayOfWeek && pos < end && Upper(text_[pos]) == 'L') {
        if (pos + 1 < end) return Unexpected(field, pos + 1);
        expr_.last_of_weekday_ |= static_cast<uint8_t>(1u << (lo % 7));
        return Status::Ok();
      }
      if (field == kDayOfWeek && pos < end && text_[pos] == '#') {
        const size_t k_pos = ++pos;
        int k;
        TASKQ_RETURN_IF_ERROR(ParseNumber(&pos, end, "occurrence after '#'", &k));
        if (k < 1 || k > 5) {
          return Error(k_pos,
                       "day-of-week occurrence " + Slice(k_pos, pos) + " is out of range 1-5");
        }
        if (pos < end) return Unexpected(field, pos);
        expr_.nth_weekday_[lo % 7] |= static_cast<uint8_t>(1u << k);
        return Status::Ok();
      }
      hi = lo;
      if (pos < end && text_[pos] == '-') {
        ++pos;
        TASKQ_RETURN_IF_ERROR(ParseValue(field, &pos, end, &hi));
        if (hi < lo) {
          return Error(begin, std::string(spec.name) + " range " +
                                  std::string(text_.substr(begin, pos - begin)) + " is reversed");
        }
      } else if (pos < end && text_[pos] == '/') {
        hi = std::max(lo, spec.star_max);
      }
    }
    int step = 1;
    if (pos < end && text_[pos] == '/') {
      const size_t step_pos = ++pos;
      TASKQ_RETURN_IF_ERROR(ParseNumber(&pos, end, "step after '/'", &step));
      const int span = spec.star_max - spec.min + 1;
      if (step < 1 || step > span) {
        return Error(step_pos, std::string(spec.name) + " step " + Slice(step_pos, pos) +
                                   " is out of range 1-" + std::to_string(span));
      }
    }
    if (pos < end) return Unexpected(field, pos);
    Set(field, lo, hi, step);
    return Status::Ok();
  }

  // A number or (month, day-of-week) a name, range-checked.
  Status ParseValue(Field field, size_t* pos, size_t end, int* value) {
    const FieldSpec& spec = kFields[field];
    const size_t begin = *pos;
    if (begin < end && IsAlpha(text_[begin]) && (field == kMonth || field == kDayOfWeek)) {
      size_t stop = begin;
      while (stop < end && IsAlpha(text_[stop])) ++stop;
      // "FRIL": the last Friday; the L is left for the caller.
      if (field == kDayOfWeek && stop - begin == 4 && Upper(text_[stop - 1]) == 'L') --stop;
      const std::string_view name = text_.substr(begin, stop - begin);
      *value = -1;
      for (int i = 0; i < (field == kMonth ? 12 : 7); ++i) {
        if (EqualsUpper(name, field == kMonth ? kMonthNames[i] : kDayNames[i])) {
          *value = field == kMonth ? i + 1 : i;
        }
      }
      if (*value < 0) {
        return Error(begin, "unknown " + std::string(spec.name) + " name '" + std::string(name) +
                                "' (expected " + (field == kMonth ? "JAN-DEC" : "SUN-SAT") + ")");
      }
      *pos = stop;
      return Status::Ok();
    }
    TASKQ_RETURN_IF_ERROR(ParseNumber(pos, end, std::string(spec.name) + " value", value));
    if (*value < spec.min || *value > spec.max) {
      return Error(begin, std::string(spec.name) + " " + Slice(begin, *pos) + " is out of range " +
                              std::to_string(spec.min) + "-" + std::to_string(spec.max));
    }
    return Status::Ok();
  }

  // Decimal digits. Values are capped at 2^30, far out of every range, so that a long run of digits
  // cannot overflow and still fails the caller's range check with its own text.
  Status ParseNumber(size_t* pos, size_t end, const std::string& what, int* value) {
    const size_t begin = *pos;
    if (begin == end || !IsDigit(text_[begin])) {
      if (begin < end) {
        return Error(begin, "expected " + what + ", found " + Quote(text_[begin]));
      }
      return Error(begin, "missing " + what);
    }
    int64_t number = 0;
    while (*pos < end && IsDigit(text_[*pos])) {
      number = std::min<int64_t>(number * 10 + (text_[*pos] - '0'), 1 << 30);
      ++*pos;
    }
    *value = static_cast<int>(number);
    return Status::Ok();
  }

  std::string Slice(size_t begin, size_t end) const {
    return std::string(text_.substr(begin, end - begin));
  }

  Status Unexpected(Field field, size_t pos) const {
    return Error(pos, "unexpected " + Quote(text_[pos]) + " in " + kFields[field].name);
  }

  void Set(Field field, int lo, int hi, int step) {
    for (int v = lo; v <= hi; v += step) {
      switch (field) {
        case kSecond:
          expr_.seconds_ |= uint64_t{1} << v;
          break;
        case kMinute:
          expr_.minutes_ |= uint64_t{1} << v;
          break;
        case kHour:
          expr_.hours_ |= uint32_t{1} << v;
          break;
        case kDayOfMonth:
          expr_.days_ |= uint32_t{1} << v;
          break;
        case kMonth:
          expr_.months_ |= static_cast<uint16_t>(1u << v);
          break;
        case kDayOfWeek:
          expr_.weekdays_ |= static_cast<uint8_t>(1u << (v % 7));
          break;
      }
    }
  }

  Status ParseMacro(size_t begin, size_t end) {
    size_t stop = begin + 1;
    while (stop < end && !IsSpace(text_[stop])) ++stop;
    const std::string_view name = text_.substr(begin, stop - begin);
    static constexpr struct {
      std::string_view name;
      std::string_view fields;
    } kMacros[] = {
        {"@YEARLY", "0 0 1 1 *"}, {"@ANNUALLY", "0 0 1 1 *"}, {"@MONTHLY", "0 0 1 * *"},
        {"@WEEKLY", "0 0 * * 0"}, {"@DAILY", "0 0 * * *"},    {"@MIDNIGHT", "0 0 * * *"},
        {"@HOURLY", "0 * * * *"},
    };
    for (const auto& macro : kMacros) {
      if (!EqualsUpper(name, macro.name)) continue;
      if (stop < end) return TrailingText(stop, end, name);
      CronParser expansion(macro.fields);
      Result<CronExpression> parsed = expansion.Parse();
      if (!parsed.ok()) return Internal("cron macro " + std::string(name) + " does not parse");
      expr_ = std::move(*parsed);
      return Status::Ok();
    }
    if (!EqualsUpper(name, "@EVERY")) {
      return Error(begin, "unknown macro '" + std::string(name) +
                              "' (expected @yearly, @annually, @monthly, @weekly, @daily, "
                              "@midnight, @hourly or @every)");
    }
    size_t pos = stop;
    while (pos < end && IsSpace(text_[pos])) ++pos;
    if (pos == end) return Error(end, "@every needs a duration, e.g. @every 1h30m");
    return ParseDuration(pos, end);
  }

  Status TrailingText(size_t stop, size_t end, std::string_view after) const {
    while (stop < end && IsSpace(text_[stop])) ++stop;
    return Error(stop, "unexpected text after " + std::string(after));
  }

  // d h m s ms, each at most once, largest first: "1h30m", "1500ms".
  Status ParseDuration(size_t begin, size_t end) {
    static constexpr struct {
      std::string_view name;
      int64_t millis;
    } kUnits[] = {{"d", kMillisPerDay}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    constexpr int64_t kMax = 366 * kMillisPerDay;
    int64_t total = 0, previous_unit = kMax + 1;
    size_t pos = begin;
    while (pos < end) {
      if (IsSpace(text_[pos])) return TrailingText(pos, end, "the @every duration");
      const size_t number_pos = pos;
      int64_t number = 0;
      while (pos < end && IsDigit(text_[pos])) {
        number = std::min<int64_t>(number * 10 + (text_[pos] - '0'), kMax + 1);
        ++pos;
      }
      if (pos == number_pos) {
        return Error(pos, "expected a number in the @every duration, found " + Quote(text_[pos]));
      }
      if (pos == end || !IsAlpha(text_[pos])) {
        return Error(pos, "expected a unit (d, h, m, s or ms) after " + Slice(number_pos, pos) +
                              " in the @every duration");
      }
      const size_t unit_pos = pos;
      while (pos < end && IsAlpha(text_[pos])) ++pos;
      const std::string_view unit = text_.substr(unit_pos, pos - unit_pos);
      int64_t unit_millis = 0;
      for (const auto& u : kUnits) {
        if (unit == u.name) unit_millis = u.millis;
      }
      if (unit_millis == 0) {
        return Error(unit_pos, "unknown unit '" + std::string(unit) +
                                   "' in the @every duration (expected d, h, m, s or ms)");
      }
      if (unit_millis >= previous_unit) {
        return Error(unit_pos, "unit '" + std::string(unit) +
                                   "' is repeated or out of order in the @every duration "
                                   "(largest first: d, h, m, s, ms)");
      }
      previous_unit = unit_millis;
      if (number > kMax / unit_millis || total + number * unit_millis > kMax) {
        return Error(begin, "@every duration " + Slice(begin, end) + " is longer than 366d");
      }
      total += number * unit_millis;
    }
    if (total < 1000) {
      return Error(begin, "@every duration " + Slice(begin, end) + " is shorter than 1s");
    }
    expr_.every_ = chrono::milliseconds(total);
    return Status::Ok();
  }

  std::string_view text_;
  CronExpression expr_;
  bool minute_star_ = false;
};

Result<CronExpression> CronExpression::Parse(std::string_view text) {
  return CronParser(text).Parse();
}

std::optional<Millis> CronExpression::Next(Millis after, const date::time_zone* zone,
                                           Millis anchor) const {
  if (every_.count() > 0) return NextEvery(after, anchor);
  return NextCron(after, zone);
}

std::optional<Millis> CronExpression::NextEvery(Millis after, Millis anchor) const {
  const int64_t interval = every_.count();
  int64_t diff, offset, next;
  if (__builtin_sub_overflow(after.time_since_epoch().count(), anchor.time_since_epoch().count(),
                             &diff) ||
      __builtin_mul_overflow(FloorDiv(diff, interval) + 1, interval, &offset) ||
      __builtin_add_overflow(anchor.time_since_epoch().count(), offset, &next)) {
    return std::nullopt;
  }
  return Millis(chrono::milliseconds(next));
}

std::optional<Millis> CronExpression::NextCron(Millis after, const date::time_zone* zone) const {
  static const date::sys_seconds kFirst = date::sys_days(date::year(1) / 1 / 1);
  static const date::sys_seconds kEnd = date::sys_days(date::year(kLastYear + 1) / 1 / 1);
  const date::sys_seconds after_s = chrono::floor<chrono::seconds>(after);
  if (after_s < kFirst || after_s >= kEnd) return std::nullopt;

  // Candidates are local times; mapping each to its instant (the first occurrence when repeated,
  // the end of the gap when skipped) never goes backwards, so the first match at or after the
  // first local time whose instant is past `after` is the answer.
  date::local_seconds start;
  if (zone == nullptr) {
    start = date::local_seconds(after_s.time_since_epoch() + chrono::seconds(1));
  } else {
    start = zone->to_local(after_s) + chrono::seconds(1);
    const date::local_info info = zone->get_info(start);
    if (info.result == date::local_info::ambiguous &&
        start - info.first.offset <= date::local_seconds(after_s.time_since_epoch())) {
      // `after` is in the repeated hour's second pass: every local time up to its end already
      // had its (first) occurrence.
      start = date::local_seconds((info.first.end + info.first.offset).time_since_epoch());
    }
  }
  const int start_year =
      static_cast<int>(date::year_month_day(date::floor<date::days>(start)).year());
  const int last_year = std::min(kLastYear, start_year + kSearchYears);

  int64_t from = start.time_since_epoch().count();
  for (;;) {
    const std::optional<int64_t> match = NextLocalMatch(from, last_year);
    if (!match) return std::nullopt;
    if (zone == nullptr) return Millis(chrono::seconds(*match));
    const date::local_seconds local{chrono::seconds(*match)};
    const date::local_info info = zone->get_info(local);
    if (info.result != date::local_info::nonexistent) {
      return Millis(chrono::seconds((local - info.first.offset).time_since_epoch().count()));
    }
    if (fixed_time_) return Millis(info.first.end.time_since_epoch());
    from = (info.second.begin + info.second.offset).time_since_epoch().count();
  }
}

std::optional<int64_t> CronExpression::NextLocalMatch(int64_t from, int last_year) const {
  const int64_t day_number = FloorDiv(from, kSecondsPerDay);
  const int64_t second_of_day = from - day_number * kSecondsPerDay;
  const date::year_month_day ymd{date::local_days(date::days(day_number))};
  int year = static_cast<int>(ymd.year());
  int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  int day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  int hour = static_cast<int>(second_of_day / 3600);
  int minute = static_cast<int>(second_of_day / 60 % 60);
  int second = static_cast<int>(second_of_day % 60);
  uint64_t day_mask = 0;
  int mask_year = 0, mask_month = 0;
  for (;;) {
    if (year > last_year) return std::nullopt;
    const int next_month = NextBit(months_, month);
    if (next_month != month) {
      if (next_month < 0) {
        ++year;
        month = NextBit(months_, 1);
      } else {
        month = next_month;
      }
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (mask_year != year || mask_month != month) {
      day_mask = DayMask(year, static_cast<unsigned>(month));
      mask_year = year;
      mask_month = month;
    }
    const int next_day = NextBit(day_mask, day);
    if (next_day < 0) {
      ++month;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (next_day != day) {
      day = next_day;
      hour = minute = second = 0;
    }
    const int next_hour = NextBit(hours_, hour);
    if (next_hour < 0) {
      ++day;
      hour = minute = second = 0;
      continue;
    }
    if (next_hour != hour) {
      hour = next_hour;
      minute = second = 0;
    }
    const int next_minute = NextBit(minutes_, minute);
    if (next_minute < 0) {
      ++hour;
      minute = second = 0;
      continue;
    }
    if (next_minute != minute) {
      minute = next_minute;
      second = 0;
    }
    const int next_second = NextBit(seconds_, second);
    if (next_second < 0) {
      ++minute;
      second = 0;
      continue;
    }
    const date::local_days date =
        date::local_days(date::year(year) / date::month(static_cast<unsigned>(month)) /
                         date::day(static_cast<unsigned>(day)));
    return date.time_since_epoch().count() * kSecondsPerDay + hour * 3600 + minute * 60 +
           next_second;
  }
}

uint32_t CronExpression::DayMask(int year, unsigned month) const {
  const date::year_month ym = date::year(year) / date::month(month);
  const int last = static_cast<int>(static_cast<unsigned>((ym / date::last).day()));
  const int first_weekday = static_cast<int>(date::weekday(date::sys_days(ym / 1)).c_encoding());
  const auto weekday_of = [&](int day) { return (first_weekday + day - 1) % 7; };
  const uint32_t in_month = static_cast<uint32_t>(BitRange(1, last));

  uint32_t by_day = days_;
  if (last_day_) by_day |= uint32_t{1} << last;
  if (last_weekday_) {
    const int weekday = weekday_of(last);
    by_day |= uint32_t{1} << (last - (weekday == 6 ? 1 : weekday == 0 ? 2 : 0));
  }
  for (uint32_t rest = nearest_weekday_; rest != 0; rest &= rest - 1) {
    const int day = std::countr_zero(rest);
    if (day > last) break;
    // The nearest Monday-Friday, but never across the month's start or end.
    const int weekday = weekday_of(day);
    int nearest = day;
    if (weekday == 6) nearest = day == 1 ? day + 2 : day - 1;
    if (weekday == 0) nearest = day == last ? day - 2 : day + 1;
    by_day |= uint32_t{1} << nearest;
  }
  by_day &= in_month;

  uint32_t by_weekday = 0;
  for (int day = 1; day <= last; ++day) {
    const int weekday = weekday_of(day);
    if ((weekdays_ >> weekday & 1) || ((last_of_weekday_ >> weekday & 1) && day + 7 > last) ||
        (nth_weekday_[weekday] >> ((day - 1) / 7 + 1) & 1)) {
      by_weekday |= uint32_t{1} << day;
    }
  }
  return days_star_ || weekdays_star_ ? by_day & by_weekday : by_day | by_weekday;
}

Result<const date::time_zone*> FindZone(std::string_view name) {
  const std::string quoted = "'" + std::string(name.substr(0, 64)) + "'";
  if (name.empty()) return InvalidArgument("", "time zone name is empty");
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    // date reports an unknown name (and a missing tzdata) only by throwing.
    return InvalidArgument("", "unknown time zone " + quoted);
  }
}

}  // namespace taskq::schedule
