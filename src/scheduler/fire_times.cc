#include "scheduler/fire_times.h"

#include <algorithm>
#include <deque>

namespace taskq::scheduler {
namespace {

schedule::Millis AsMillis(int64_t ms) { return schedule::Millis(std::chrono::milliseconds(ms)); }

}  // namespace

Result<CompiledSchedule> Compile(ScheduleDefinition definition) {
  auto cron = schedule::CronExpression::Parse(definition.cron);
  if (!cron.ok()) return InvalidArgument("cron", cron.status().message());
  auto zone = schedule::FindZone(definition.tz);
  if (!zone.ok()) return InvalidArgument("tz", zone.status().message());
  return CompiledSchedule{std::move(definition), std::move(*cron), *zone};
}

std::optional<int64_t> NextFireTime(const CompiledSchedule& s, int64_t after_ms,
                                    int64_t created_ms) {
  const ScheduleDefinition& d = s.definition;
  if (d.start_ms) after_ms = std::max(after_ms, *d.start_ms - 1);
  const int64_t anchor = d.start_ms.value_or(created_ms);
  auto next = s.cron.Next(AsMillis(after_ms), s.zone, AsMillis(anchor));
  if (!next) return std::nullopt;
  const int64_t ms = next->time_since_epoch().count();
  if (d.end_ms && ms > *d.end_ms) return std::nullopt;
  return ms;
}

std::vector<int64_t> NextFireTimes(const CompiledSchedule& s, int64_t after_ms, int64_t created_ms,
                                   size_t count) {
  std::vector<int64_t> out;
  for (auto t = NextFireTime(s, after_ms, created_ms); t && out.size() < count;
       t = NextFireTime(s, *t, created_ms)) {
    out.push_back(*t);
  }
  return out;
}

FirePlan PlanFires(const CompiledSchedule& s, int64_t next_ms, int64_t runs, int64_t created_ms,
                   int64_t now_ms, std::chrono::milliseconds grace, size_t max_walk) {
  const int64_t late_limit = now_ms - grace.count();  // fire times at or before it are missed
  const size_t catch_up = static_cast<size_t>(std::max(0, s.definition.catch_up));
  std::deque<int64_t> missed;  // the most recent `catch_up` missed ones
  std::vector<int64_t> on_time;
  std::optional<int64_t> t = next_ms;
  size_t walked = 0;
  int64_t late = 0;  // fire times more than grace late
  while (t && *t <= now_ms) {
    if (++walked > max_walk) {
      // Too many to look at: everything before the limit counts as missed and is not caught up.
      missed.clear();
      on_time.clear();
      t = NextFireTime(s, std::max(late_limit, *t - 1), created_ms);
      for (; t && *t <= now_ms; t = NextFireTime(s, *t, created_ms)) on_time.push_back(*t);
      break;
    }
    if (*t <= late_limit) {
      ++late;
      missed.push_back(*t);
      if (missed.size() > catch_up) missed.pop_front();
    } else {
      on_time.push_back(*t);
    }
    t = NextFireTime(s, *t, created_ms);
  }
  FirePlan plan;
  plan.fire_times.assign(missed.begin(), missed.end());
  plan.fire_times.insert(plan.fire_times.end(), on_time.begin(), on_time.end());
  plan.next_ms = t.value_or(-1);
  plan.missed = late - static_cast<int64_t>(missed.size());  // those caught up were not missed
  const int64_t max_runs = s.definition.max_runs;
  if (max_runs > 0) {
    const int64_t left = std::max<int64_t>(0, max_runs - runs);
    if (static_cast<int64_t>(plan.fire_times.size()) >= left) {
      plan.fire_times.resize(static_cast<size_t>(left));
      plan.next_ms = -1;
    }
  }
  return plan;
}

std::string FireJobId(const std::string& schedule_id, int64_t fire_ms) {
  return "s:" + schedule_id + ":" + std::to_string(fire_ms);
}

}  // namespace taskq::scheduler
