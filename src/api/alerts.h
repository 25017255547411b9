// The alerts the API serves (GET /api/alerts) and the dashboard shows as banners: the same four
// rules, with the same names and thresholds, as the Prometheus alerting rules shipped in
// deploy/prometheus/ (docs/alerts.md), and TaskqShardsShareMaster, which needs the cluster's
// slot map that no metric carries. Pure: the route reads the inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace taskq::api {

// Thresholds (docs/alerts.md); the defaults are those of the shipped Prometheus rules, and the
// API's flags change them (--alert-dead-window-min, --alert-oldest-waiting-s,
// --alert-schedule-late-s).
struct AlertThresholds {
  int64_t dead_window_minutes = 10;  // 1..1440: jobs gone dead within this raise an alert
  int64_t oldest_waiting_ms = 300000;
  int64_t schedule_late_ms = 60000;
};

struct QueueAlertInput {
  std::string queue;
  int64_t waiting = 0;
  int64_t workers = 0;  // live workers serving it
  int64_t oldest_waiting_age_ms = 0;
  // Jobs that went dead in the buckets of the last dead_window_minutes (history).
  int64_t dead_recently = 0;
  // A sharded queue on a Redis Cluster: host:port of the master serving each shard, by shard
  // index ("" when no master serves its slot). Empty for a queue of one shard, or off a cluster.
  std::vector<std::string> shard_masters;
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

// Critical ones first, then by name and subject. `cluster_masters`: host:port of every master of
// the Redis Cluster that serves slots (empty off a cluster).
std::vector<Alert> EvaluateAlerts(const std::vector<QueueAlertInput>& queues,
                                  const std::vector<ScheduleAlertInput>& schedules,
                                  const AlertThresholds& thresholds = {},
                                  const std::vector<std::string>& cluster_masters = {});

// {"alerts":[...],"thresholds":{...},"now_ms":N}
std::string RenderAlerts(const std::vector<Alert>& alerts, const AlertThresholds& thresholds,
                         int64_t now_ms);

}  // namespace taskq::api
