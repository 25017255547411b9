#include "api/alerts.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "common/json_text.h"

namespace taskq::api {
namespace {

// Two or more shards of a sharded queue served by one master while another master serves none
// of them: the queue gets fewer masters' throughput than its shards could give, and a spread
// that would is possible. N shards on M < N masters, spread as evenly as may be, leave no master
// idle and raise nothing.
std::optional<Alert> ShardsShareMaster(const QueueAlertInput& q,
                                       const std::vector<std::string>& cluster_masters) {
  if (q.shard_masters.size() < 2 || cluster_masters.empty()) return std::nullopt;
  std::map<std::string, std::vector<size_t>> shards_of;  // by master
  for (size_t i = 0; i < q.shard_masters.size(); ++i) {
    if (!q.shard_masters[i].empty()) shards_of[q.shard_masters[i]].push_back(i);
  }
  std::vector<std::string> idle;
  for (const std::string& master : cluster_masters) {
    if (!shards_of.contains(master)) idle.push_back(master);
  }
  std::vector<std::string> crowded;
  size_t sharing = 0;
  for (const auto& [master, shards] : shards_of) {
    if (shards.size() < 2) continue;
    crowded.push_back(fmt::format("shards {} share master {}", fmt::join(shards, ", "), master));
    sharing += shards.size();
  }
  if (idle.empty() || crowded.empty()) return std::nullopt;
  const size_t n = q.shard_masters.size();
  Alert alert{"TaskqShardsShareMaster", "warning", q.queue, std::nullopt};
  alert.summary = fmt::format(
      "queue {}: {}, while master(s) {} serve none of its {} shards: move a shard's slot to an "
      "idle master (redis-cli --cluster reshard, or CLUSTER SETSLOT), or, while the queue holds "
      "no job, spread it again with `taskq shards {} 1` then `taskq shards {} {}`, which places "
      "each new shard on the master serving the fewest",
      q.queue, fmt::join(crowded, "; "), fmt::join(idle, ", "), n, q.queue, q.queue, n);
  alert.value = static_cast<double>(sharing);
  return alert;
}

}  // namespace

std::vector<Alert> EvaluateAlerts(const std::vector<QueueAlertInput>& queues,
                                  const std::vector<ScheduleAlertInput>& schedules,
                                  const AlertThresholds& thresholds,
                                  const std::vector<std::string>& cluster_masters) {
  std::vector<Alert> out;
  for (const QueueAlertInput& q : queues) {
    if (auto crowded = ShardsShareMaster(q, cluster_masters)) out.push_back(std::move(*crowded));
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
