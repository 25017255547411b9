// Cron expressions (schedules): parsed, and when accepted, a few fire times computed in UTC and
// in a zone with daylight saving time. Fire times must be strictly increasing.
#include <date/tz.h>

#include <cstdint>

#include "fuzz_check.h"
#include "scheduler/cron_expression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using taskq::schedule::CronExpression;
  using taskq::schedule::Millis;
  auto expression = CronExpression::Parse(taskq::fuzz::AsText(data, size));
  if (!expression.ok()) {
    TASKQ_FUZZ_CHECK(expression.status().code() == taskq::StatusCode::kInvalidArgument);
    return 0;
  }
  static const date::time_zone* const kBerlin = date::locate_zone("Europe/Berlin");
  const Millis start{std::chrono::milliseconds(1'711'846'800'000)};  // near a DST change
  for (const date::time_zone* zone : {static_cast<const date::time_zone*>(nullptr), kBerlin}) {
    Millis after = start;
    for (int i = 0; i < 4; ++i) {
      std::optional<Millis> next = expression->Next(after, zone, start);
      if (!next) break;
      TASKQ_FUZZ_CHECK(*next > after);
      after = *next;
    }
  }
  return 0;
}
