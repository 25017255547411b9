// GET /api/alerts: the alert rules of docs/alerts.md evaluated now, for the dashboard's banners
// (and anyone without Prometheus).
#include <chrono>

#include "api/alerts.h"
#include "api/api_context.h"
#include "api/api_error.h"
#include "api/live_workers.h"
#include "scheduler/schedule_store.h"

namespace taskq::api {
namespace {

void GetAlerts(ApiContext& ctx, HttpRequest&&, const RouteParams&, Respond respond) {
  OnBackend(ctx, std::move(respond), [thresholds = ctx.options.alert_thresholds](Backend& b) {
    auto queues = b.inspector->Queues();
    if (!queues.ok()) return StatusResponse(queues.status());
    auto workers = b.inspector->Workers();
    if (!workers.ok()) return StatusResponse(workers.status());
    auto service = ServiceByQueue(*workers);
    std::vector<QueueAlertInput> queue_inputs;
    std::vector<std::string> cluster_masters;  // read once, and only when a queue is sharded
    bool masters_read = false;
    int64_t now_ms = workers->now_ms;
    for (const std::string& queue : *queues) {
      auto counts = b.inspector->Counts(queue);
      if (!counts.ok()) return StatusResponse(counts.status());
      auto history =
          b.inspector->History(queue, std::chrono::minutes(thresholds.dead_window_minutes),
                               static_cast<int32_t>(10 * thresholds.dead_window_minutes));
      if (!history.ok()) return StatusResponse(history.status());
      QueueAlertInput& in = queue_inputs.emplace_back();
      in.queue = queue;
      in.waiting = counts->waiting;
      in.workers = service[queue].workers;
      in.oldest_waiting_age_ms = counts->oldest_waiting_age_ms();
      for (const QueueHistoryRow& row : history->rows) in.dead_recently += row.dead.value_or(0);
      now_ms = counts->now_ms;
      if (counts->shards > 1) {
        if (!masters_read) {
          auto masters = b.inspector->ClusterMasters();
          if (!masters.ok()) return StatusResponse(masters.status());
          cluster_masters = std::move(*masters);
          masters_read = true;
        }
        // Off a cluster no shard has a master: nothing to read.
        if (!cluster_masters.empty()) {
          auto shards = b.inspector->ShardBreakdown(queue);
          if (!shards.ok()) return StatusResponse(shards.status());
          for (const QueueShard& shard : shards->shards) in.shard_masters.push_back(shard.master);
        }
      }
    }
    auto schedules = b.schedules->List();
    if (!schedules.ok()) return StatusResponse(schedules.status());
    std::vector<ScheduleAlertInput> schedule_inputs;
    for (const scheduler::ScheduleInfo& s : schedules->schedules) {
      schedule_inputs.push_back({s.definition.id, scheduler::ScheduleLateMs(s, schedules->now_ms)});
    }
    return JsonResponse(200, RenderAlerts(EvaluateAlerts(queue_inputs, schedule_inputs, thresholds,
                                                         cluster_masters),
                                          thresholds, std::max(now_ms, schedules->now_ms)));
  });
}

}  // namespace

void AddAlertRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/alerts", Scope::kRead,
             {"The alert rules of docs/alerts.md evaluated now (the dashboard's banners): a "
              "growing dead-letter queue, waiting jobs with no worker, an old oldest waiting "
              "job, a schedule whose fire times no scheduler handles, shards of a queue sharing "
              "a master while another serves none. Critical ones first.",
              {},
              "",
              "AlertList",
              {200}},
             BindRoute(ctx, GetAlerts));
}

}  // namespace taskq::api
