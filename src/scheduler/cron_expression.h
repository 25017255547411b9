// Cron expressions and their next fire time in a time zone. Pure and unit-tested: no clock, no I/O.
//
// Syntax (fields separated by spaces or tabs; names, L, W and macros are case-insensitive):
//   [second] minute hour day-of-month month day-of-week        5 fields, or 6 with seconds first
//   second 0-59, minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
//   day-of-week 0-7 or SUN-SAT (0 and 7 are Sunday)
//   *  a-b  */n  a-b/n  a/n (= a-max/n)  lists a,b-c,...   ? = * in day-of-month and day-of-week
//   day-of-month: L (last day), LW (last weekday, Mon-Fri), nW (the weekday nearest day n, never
//                 in another month; none when the month has no day n)
//   day-of-week:  nL (the last weekday n of the month), n#k (the k-th weekday n, k 1-5)
//   @yearly @annually @monthly @weekly @daily @midnight @hourly
//   @every <duration>: lower-case units d h m s ms, each at most once, largest first ("1h30m"),
//                      1s-366d
// With 5 fields the second is 0. Day rule (Vixie cron, crontab(5)): when day-of-month and
// day-of-week are both restricted (neither starts with * or ?), a day matches if EITHER matches;
// otherwise both must match ("*/2 ... MON" = odd days that are Mondays).
//
// Time zones: the fields are matched against LOCAL wall-clock time in the zone, and each local
// time that matches fires at most once:
//   - A local time that exists twice (autumn fall-back) fires once, at its first occurrence. This
//     holds for every expression: "*/15 * * * *" does not fire during the repeated hour's second
//     pass, since each of its local times already fired in the first.
//   - A local time that does not exist (spring-forward gap) is skipped, unless neither the minute
//     nor the hour field starts with * (a "fixed time" such as "30 2 * * *", as cronie does): then
//     it fires once at the first instant after the gap (Berlin 2026-03-29 02:30 fires at 03:00
//     CEST = 01:00 UTC). That instant is also local 03:00, so a job that matches both 02:xx and
//     03:00 still fires there once.
// Fire times are whole seconds. Next() searches at most one 400-year Gregorian cycle (after which
// the calendar repeats), so an impossible expression ("0 0 30 2 *") returns nullopt quickly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "taskq/status.h"

namespace date {
class time_zone;
}

namespace taskq::schedule {

using Millis = std::chrono::sys_time<std::chrono::milliseconds>;

// Immutable after Parse(): Next() may be called from any number of threads at once.
class CronExpression {
 public:
  static constexpr size_t kMaxTextLength = 256;

  // Errors: kInvalidArgument with the message "position P: reason", P the 1-based offset in
  // `text` as given (before trimming), e.g. "position 5: hour 25 is out of range 0-23".
  static Result<CronExpression> Parse(std::string_view text);

  // The first fire time strictly after `after`, in `zone` (nullptr = UTC). `anchor` is used only by
  // "@every": its fire times are anchor + k * interval for every integer k (the anchor sets the
  // phase; it is not a start time). nullopt: never fires again ("0 0 30 2 *"); also when `after`
  // lies outside the years 1-9999 or no fire time is left before the year 10000 (or, for @every,
  // within the range of Millis).
  std::optional<Millis> Next(Millis after, const date::time_zone* zone, Millis anchor) const;

  // As given, trimmed of surrounding whitespace.
  const std::string& text() const { return text_; }
  // True when fire times are not limited to whole minutes: 6 fields, or "@every" (its fire times
  // follow the anchor to the millisecond).
  bool has_seconds() const { return has_seconds_ || every_.count() > 0; }

 private:
  friend class CronParser;

  CronExpression() = default;

  std::optional<Millis> NextEvery(Millis after, Millis anchor) const;
  std::optional<Millis> NextCron(Millis after, const date::time_zone* zone) const;
  // The first local time (seconds since the local epoch) at or after `from` that matches the
  // fields, or nullopt if none before the year `last_year` ends.
  std::optional<int64_t> NextLocalMatch(int64_t from, int last_year) const;
  // Bit d set for each day d of the month that matches day-of-month / day-of-week.
  uint32_t DayMask(int year, unsigned month) const;

  std::string text_;
  bool has_seconds_ = false;
  std::chrono::milliseconds every_{0};  // > 0 for "@every"; the fields below are then unused

  // Bit v set for each value v that matches.
  uint64_t seconds_ = 1;  // second 0 when there are 5 fields
  uint64_t minutes_ = 0;
  uint32_t hours_ = 0;
  uint32_t days_ = 0;             // days of the month 1-31
  uint32_t nearest_weekday_ = 0;  // nW: bit n
  bool last_day_ = false;         // L
  bool last_weekday_ = false;     // LW
  uint16_t months_ = 0;           // 1-12
  uint8_t weekdays_ = 0;          // 0-6, Sunday 0
  uint8_t last_of_weekday_ = 0;   // nL: bit n
  uint8_t nth_weekday_[7] = {};   // n#k: bit k of nth_weekday_[n]
  // Whether the field starts with * or ? (Vixie's day rule and the DST gap rule).
  bool days_star_ = false;
  bool weekdays_star_ = false;
  bool fixed_time_ = false;  // neither minute nor hour starts with *
};

// Looks up an IANA zone name ("Europe/Berlin", "UTC") in the system's tzdata. kInvalidArgument
// naming the zone if it is unknown.
Result<const date::time_zone*> FindZone(std::string_view name);

}  // namespace taskq::schedule
