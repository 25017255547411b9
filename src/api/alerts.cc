#include "api/alerts.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "common/json_text.h"

namespace taskq::api {

std::vector<Alert> EvaluateAlerts(const std::vector<QueueAlertInput>& queues,
                                  const std::vector<ScheduleAlertInput>& schedules,
                                  const AlertThresholds& thresholds) {
  std::vector<Alert> out;
  for (const QueueAlertInput& q : queues) {
    if (q.dead_recently > 0) {
      out.push_back({"TaskqDeadLetterGrowing", "warning", q.queue, std::nullopt,
                     fmt::format("{} job(s) of queue {} went dead in the last {} minutes",
                                 q.dead_recently, q.queue, thresholds.dead_window_minutes),
                     static_cast<double>(q.dead_recently)});
    }
    if (q.waiting > 0 && q.workers == 0) {
      out.push_back({"TaskqQueueWithoutWorkers", "critical", q.queue, std::nullopt,
                     fmt::format("{} job(s) wait in queue {} and no live worker serves it",
                                 q.waiting, q.queue),
                     static_cast<double>(q.waiting)});
    }
    if (q.oldest_waiting_age_ms > thresholds.oldest_waiting_ms) {
      out.push_back(
          {"TaskqOldestWaitingTooOld", "warning", q.queue, std::nullopt,
           fmt::format("the oldest waiting job of queue {} has waited {} s (over {} s)", q.queue,
                       q.oldest_waiting_age_ms / 1000, thresholds.oldest_waiting_ms / 1000),
           q.oldest_waiting_age_ms / 1e3});
    }
  }
  for (const ScheduleAlertInput& s : schedules) {
    if (s.late_ms > thresholds.schedule_late_ms) {
      out.push_back({"TaskqScheduleStuck", "critical", std::nullopt, s.schedule,
                     fmt::format("schedule {} is {} s behind its next fire time: is a scheduler "
                                 "running?",
                                 s.schedule, s.late_ms / 1000),
                     s.late_ms / 1e3});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) {
    return std::tuple(a.severity != "critical", a.name, a.queue.value_or(""),
                      a.schedule.value_or("")) < std::tuple(b.severity != "critical", b.name,
                                                            b.queue.value_or(""),
                                                            b.schedule.value_or(""));
  });
  return out;
}

std::string RenderAlerts(const std::vector<Alert>& alerts, const AlertThresholds& thresholds,
                         int64_t now_ms) {
  auto optional = [](const std::optional<std::string>& s) {
    return s ? JsonString(*s) : std::string("null");
  };
  std::string out = "{\"alerts\":[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const Alert& a = alerts[i];
    if (i) out += ',';
    out += "{\"name\":" + JsonString(a.name) + ",\"severity\":" + JsonString(a.severity) +
           ",\"queue\":" + optional(a.queue) + ",\"schedule\":" + optional(a.schedule) +
           ",\"summary\":" + JsonString(a.summary) + fmt::format(",\"value\":{}}}", a.value);
  }
  return out + fmt::format(
                   "],\"thresholds\":{{\"dead_window_minutes\":{},\"oldest_waiting_s\":{},"
                   "\"schedule_late_s\":{}}},\"now_ms\":{}}}",
                   thresholds.dead_window_minutes, thresholds.oldest_waiting_ms / 1e3,
                   thresholds.schedule_late_ms / 1e3, now_ms);
}

}  // namespace taskq::api
