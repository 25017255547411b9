// The alerts the API serves (GET /api/alerts) and the dashboard shows as banners: the same four
// rules, with the same names and thresholds, as the Prometheus alerting rules shipped in
// deploy/prometheus/ (docs/alerts.md). Pure: the route reads the inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace taskq::api {

// Thresholds (docs/alerts.md).
inline constexpr int64_t kDeadLetterWindowMinutes = 10;
inline constexpr int64_t kOldestWaitingAlertMs = 300000;
inline constexpr int64_t kScheduleLateAlertMs = 60000;

struct QueueAlertInput {
  std::string queue;
  int64_t waiting = 0;
  int64_t workers = 0;  // live workers serving it
  int64_t oldest_waiting_age_ms = 0;
  // Jobs that went dead in the buckets of the last kDeadLetterWindowMinutes (history).
  int64_t dead_recently = 0;
};

struct ScheduleAlertInput {
  std::string schedule;
  int64_t late_ms = 0;  // scheduler::ScheduleLateMs
};

struct Alert {
  std::string name;      // TaskqDeadLetterGrowing, TaskqQueueWithoutWorkers, ...
  std::string severity;  // "warning" or "critical"
  std::optional<std::string> queue;
  std::optional<std::string> schedule;
  std::string summary;
  double value = 0;  // what crossed the threshold (jobs, seconds)
};

// Critical ones first, then by name and subject.
std::vector<Alert> EvaluateAlerts(const std::vector<QueueAlertInput>& queues,
                                  const std::vector<ScheduleAlertInput>& schedules);

std::string RenderAlerts(const std::vector<Alert>& alerts, int64_t now_ms);

}  // namespace taskq::api
