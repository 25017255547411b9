// Health, readiness, Prometheus metrics and the OpenAPI document.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <string>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/process_metrics.h"
#include "common/worker_info_codec.h"
#include "scheduler/schedule_store.h"

namespace taskq::api {
namespace {

// Logs why Redis is not usable when that changes (a health check every second would otherwise
// repeat it), and once when it is usable again.
void LogReadinessChange(const Status& status) {
  static std::mutex mu;
  static std::string last = "ok";
  const std::string now = status.ok() ? "ok" : status.ToString();
  std::lock_guard lock(mu);
  if (now == last) return;
  if (status.ok()) {
    spdlog::info("readyz: Redis is usable again");
  } else {
    spdlog::warn("readyz: not ready: {}", now);
  }
  last = now;
}

// One Prometheus histogram series per job type; the buckets are those workers reported.
void AppendHistograms(const std::string& name, const std::string& queue,
                      const std::map<std::string, TimingHistogram>& by_type, std::string* out) {
  for (const auto& [type, h] : by_type) {
    const std::string labels = fmt::format("queue=\"{}\",type=\"{}\"", queue, type);
    int64_t cumulative = 0;
    for (size_t i = 0; i < h.bounds_ms.size(); ++i) {
      cumulative += h.counts[i];
      *out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, h.bounds_ms[i] / 1e3,
                          cumulative);
    }
    *out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, h.count);
    *out += fmt::format("{}_sum{{{}}} {}\n", name, labels, h.sum_ms / 1e3);
    *out += fmt::format("{}_count{{{}}} {}\n", name, labels, h.count);
  }
}

void AppendQueueMetrics(Backend& b, std::string* out, Status* status) {
  auto queues = b.inspector->Queues();
  if (!queues.ok()) {
    *status = queues.status();
    return;
  }
  // Handler processes alive now, per queue, as the live workers last said.
  auto workers = b.inspector->Workers();
  if (!workers.ok()) {
    *status = workers.status();
    return;
  }
  std::map<std::string, int64_t> processes_alive, workers_serving;
  for (const WorkerInfo& worker : workers->workers) {
    for (const WorkerQueueInfo& q : worker.queues) {
      processes_alive[q.queue] += q.processes;
      ++workers_serving[q.queue];
    }
  }
  std::string jobs, completed, failed, stalled, overrunning, overran, paused, oldest, processing,
      wait, processes, process_starts, process_stops, enqueued, retried, dead, callbacks, serving,
      shard_jobs, shard_counts;
  for (const std::string& q : *queues) {
    auto c = b.inspector->Counts(q);
    if (!c.ok()) {
      *status = c.status();
      return;
    }
    // Per shard only for a sharded queue: an unsharded one adds no series.
    if (c->shards > 1) {
      auto shards = b.inspector->ShardBreakdown(q);
      if (!shards.ok()) {
        *status = shards.status();
        return;
      }
      shard_counts +=
          fmt::format("taskq_queue_shards{{queue=\"{}\"}} {}\n", q, shards->shards.size());
      for (const QueueShard& shard : shards->shards) {
        const QueueCounts& sc = shard.counts;
        const std::pair<const char*, int64_t> shard_states[] = {{"waiting", sc.waiting},
                                                                {"delayed", sc.delayed},
                                                                {"active", sc.active},
                                                                {"retrying", sc.retrying},
                                                                {"dead", sc.dead}};
        for (const auto& [state, n] : shard_states) {
          shard_jobs +=
              fmt::format("taskq_queue_shard_jobs{{queue=\"{}\",shard=\"{}\",state=\"{}\"}} {}\n",
                          q, shard.index, state, n);
        }
      }
    }
    const std::pair<const char*, int64_t> states[] = {
        {"waiting", c->waiting},   {"delayed", c->delayed},
        {"active", c->active},     {"completed", c->completed},
        {"retrying", c->retrying}, {"dead", c->dead},
        {"held", c->held}};
    for (const auto& [state, n] : states) {
      jobs += fmt::format("taskq_jobs{{queue=\"{}\",state=\"{}\"}} {}\n", q, state, n);
    }
    completed +=
        fmt::format("taskq_jobs_completed_total{{queue=\"{}\"}} {}\n", q, c->completed_total);
    failed +=
        fmt::format("taskq_job_attempts_failed_total{{queue=\"{}\"}} {}\n", q, c->failed_total);
    stalled += fmt::format("taskq_job_stalls_total{{queue=\"{}\"}} {}\n", q, c->stalled_total);
    enqueued += fmt::format("taskq_jobs_enqueued_total{{queue=\"{}\"}} {}\n", q, c->enqueued_total);
    retried += fmt::format("taskq_jobs_retried_total{{queue=\"{}\"}} {}\n", q, c->retried_total);
    dead += fmt::format("taskq_jobs_dead_total{{queue=\"{}\"}} {}\n", q, c->dead_total);
    callbacks +=
        fmt::format("taskq_callbacks_pending{{queue=\"{}\"}} {}\n", q, c->callbacks_pending);
    serving += fmt::format("taskq_queue_workers{{queue=\"{}\"}} {}\n", q, workers_serving[q]);
    overrunning += fmt::format("taskq_jobs_overrunning{{queue=\"{}\"}} {}\n", q, c->overrunning);
    overran += fmt::format("taskq_job_overruns_total{{queue=\"{}\"}} {}\n", q, c->overran_total);
    paused += fmt::format("taskq_queue_paused{{queue=\"{}\"}} {}\n", q, c->paused ? 1 : 0);
    const double age = c->oldest_waiting_age_ms() / 1e3;
    oldest += fmt::format("taskq_queue_oldest_waiting_seconds{{queue=\"{}\"}} {}\n", q, age);
    auto timings = b.inspector->Timings(q);
    if (!timings.ok()) {
      *status = timings.status();
      return;
    }
    AppendHistograms("taskq_job_processing_seconds", q, timings->processing, &processing);
    AppendHistograms("taskq_job_wait_seconds", q, timings->wait, &wait);
    const HandlerProcessCounts& hp = timings->handler_processes;
    processes += fmt::format("taskq_handler_processes{{queue=\"{}\"}} {}\n", q, processes_alive[q]);
    process_starts +=
        fmt::format("taskq_handler_process_starts_total{{queue=\"{}\"}} {}\n", q, hp.started);
    const std::pair<const char*, int64_t> stops[] = {{"timeout", hp.timed_out},
                                                     {"stop", hp.stopped},
                                                     {"memory", hp.out_of_memory},
                                                     {"crash", hp.crashed}};
    for (const auto& [reason, n] : stops) {
      process_stops += fmt::format(
          "taskq_handler_process_ends_total{{queue=\"{}\",reason=\"{}\"}} {}\n", q, reason, n);
    }
  }
  // Queue names are limited to [A-Za-z0-9_.-], so they need no escaping in label values.
  *out +=
      "# HELP taskq_jobs Jobs per queue and state (completed and dead: those kept).\n"
      "# TYPE taskq_jobs gauge\n" +
      jobs;
  *out +=
      "# HELP taskq_jobs_completed_total Jobs completed.\n"
      "# TYPE taskq_jobs_completed_total counter\n" +
      completed;
  *out +=
      "# HELP taskq_job_attempts_failed_total Attempts that failed (retried or dead).\n"
      "# TYPE taskq_job_attempts_failed_total counter\n" +
      failed;
  *out +=
      "# HELP taskq_jobs_enqueued_total Jobs created.\n"
      "# TYPE taskq_jobs_enqueued_total counter\n" +
      enqueued;
  *out +=
      "# HELP taskq_jobs_retried_total Failed attempts followed by a retry.\n"
      "# TYPE taskq_jobs_retried_total counter\n" +
      retried;
  *out +=
      "# HELP taskq_jobs_dead_total Jobs that went dead (failed for good, or stalled out).\n"
      "# TYPE taskq_jobs_dead_total counter\n" +
      dead;
  *out +=
      "# HELP taskq_callbacks_pending Completion callbacks not yet relayed (outbox entries).\n"
      "# TYPE taskq_callbacks_pending gauge\n" +
      callbacks;
  *out +=
      "# HELP taskq_queue_workers Live workers serving the queue.\n"
      "# TYPE taskq_queue_workers gauge\n" +
      serving;
  *out +=
      "# HELP taskq_job_stalls_total Leases that expired while a job ran.\n"
      "# TYPE taskq_job_stalls_total counter\n" +
      stalled;
  *out +=
      "# HELP taskq_jobs_overrunning Running jobs past their timeout whose handler still runs "
      "(not retried until it returns).\n"
      "# TYPE taskq_jobs_overrunning gauge\n" +
      overrunning;
  *out +=
      "# HELP taskq_job_overruns_total Attempts that ran past their timeout.\n"
      "# TYPE taskq_job_overruns_total counter\n" +
      overran;
  *out +=
      "# HELP taskq_queue_paused 1 while the queue is paused.\n"
      "# TYPE taskq_queue_paused gauge\n" +
      paused;
  *out +=
      "# HELP taskq_queue_oldest_waiting_seconds Age of the oldest job at a waiting head.\n"
      "# TYPE taskq_queue_oldest_waiting_seconds gauge\n" +
      oldest;
  *out +=
      "# HELP taskq_job_processing_seconds Handler run time per attempt, by job type.\n"
      "# TYPE taskq_job_processing_seconds histogram\n" +
      processing;
  *out +=
      "# HELP taskq_job_wait_seconds From due (enqueue, delay or run-at) to the first claim.\n"
      "# TYPE taskq_job_wait_seconds histogram\n" +
      wait;
  *out +=
      "# HELP taskq_handler_processes Handler processes alive (process isolation).\n"
      "# TYPE taskq_handler_processes gauge\n" +
      processes;
  *out +=
      "# HELP taskq_handler_process_starts_total Handler processes started, replacements "
      "included.\n"
      "# TYPE taskq_handler_process_starts_total counter\n" +
      process_starts;
  *out +=
      "# HELP taskq_handler_process_ends_total Handler processes stopped or ended mid-job, by "
      "reason: timeout, stop (after a stop request), memory (the cap), crash.\n"
      "# TYPE taskq_handler_process_ends_total counter\n" +
      process_stops;
  if (shard_counts.empty()) return;  // no sharded queue
  *out +=
      "# HELP taskq_queue_shards Shards a sharded queue is spread over (only queues of more "
      "than one).\n"
      "# TYPE taskq_queue_shards gauge\n" +
      shard_counts;
  *out +=
      "# HELP taskq_queue_shard_jobs Jobs per shard of a sharded queue and state.\n"
      "# TYPE taskq_queue_shard_jobs gauge\n" +
      shard_jobs;
}

// Per schedule (ids are [A-Za-z0-9_.-], so label values need no escaping).
void AppendScheduleMetrics(Backend& b, std::string* out, Status* status) {
  auto list = b.schedules->List();
  if (!list.ok()) {
    *status = list.status();
    return;
  }
  std::string fires, missed, late;
  for (const scheduler::ScheduleInfo& s : list->schedules) {
    const std::string& id = s.definition.id;
    fires += fmt::format("taskq_schedule_fires_total{{schedule=\"{}\"}} {}\n", id, s.state.runs);
    missed +=
        fmt::format("taskq_schedule_missed_total{{schedule=\"{}\"}} {}\n", id, s.state.missed);
    late += fmt::format("taskq_schedule_late_seconds{{schedule=\"{}\"}} {}\n", id,
                        scheduler::ScheduleLateMs(s, list->now_ms) / 1e3);
  }
  *out +=
      "# HELP taskq_schedule_fires_total Fire times that got a job (caught-up ones included).\n"
      "# TYPE taskq_schedule_fires_total counter\n" +
      fires;
  *out +=
      "# HELP taskq_schedule_missed_total Fire times missed and not caught up.\n"
      "# TYPE taskq_schedule_missed_total counter\n" +
      missed;
  *out +=
      "# HELP taskq_schedule_late_seconds How far an active schedule's next fire time is "
      "behind now (0 when on time, paused or ended).\n"
      "# TYPE taskq_schedule_late_seconds gauge\n" +
      late;
}

}  // namespace

void AddSystemRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/healthz", Scope::kNone,
             {"The process is up (does not touch Redis).", {}, "", "Health", {200}},
             [](HttpRequest&&, const RouteParams&, Respond respond) {
               respond(JsonResponse(200, "{\"status\":\"ok\"}"));
             });
  router.Add("GET", "/readyz", Scope::kNone,
             {"Redis is reachable and safe to use (maxmemory-policy noeviction).",
              {},
              "",
              "Health",
              {200, 503}},
             [&ctx](HttpRequest&&, const RouteParams&, Respond respond) {
               OnBackend(ctx, std::move(respond), [](Backend& b) {
                 Status s = b.inspector->CheckServer();
                 LogReadinessChange(s);
                 if (!s.ok()) {
                   // Anyone may ask (no key): the answer names no host, port or Redis error;
                   // the log has them.
                   HttpResponse r = ErrorResponse(
                       503, "not_ready",
                       "Redis is not reachable or not safe to use; the API's log says why");
                   r.headers.emplace_back("Retry-After", "1");
                   return r;
                 }
                 return JsonResponse(200, "{\"status\":\"ready\"}");
               });
             });
  router.Add("GET", "/api/workers", Scope::kRead,
             {"Worker processes heard from in the last 15 s: host, pid, queues with concurrency "
              "and running jobs, job types, heartbeat age.",
              {},
              "",
              "WorkerList",
              {200}},
             [&ctx](HttpRequest&&, const RouteParams&, Respond respond) {
               OnBackend(ctx, std::move(respond), [](Backend& b) {
                 auto list = b.inspector->Workers();
                 if (!list.ok()) return StatusResponse(list.status());
                 std::string body = "{\"workers\":[";
                 for (size_t i = 0; i < list->workers.size(); ++i) {
                   if (i) body += ',';
                   body += WorkerInfoJson(list->workers[i], list->now_ms);
                 }
                 body += "]}";
                 return JsonResponse(200, std::move(body));
               });
             });
  router.Add("GET", "/metrics", Scope::kRead,
             {"Prometheus metrics (text format 0.0.4); see docs/metrics.md.", {}, "", "", {200}},
             [&ctx](HttpRequest&&, const RouteParams&, Respond respond) {
               HttpMetrics& http_metrics = ctx.http_metrics;
               OnBackend(ctx, std::move(respond), [&http_metrics](Backend& b) {
                 HttpResponse r;
                 r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 // Redis down: the scrape still answers, with what this process knows and
                 // taskq_redis_up 0, so an alert can tell "Redis down" from "taskq down".
                 Status s;
                 std::string queues;
                 AppendQueueMetrics(b, &queues, &s);
                 if (s.ok()) AppendScheduleMetrics(b, &queues, &s);
                 r.body =
                     "# HELP taskq_redis_up 1 when this scrape read the queue metrics from Redis, "
                     "else 0 (they are then left out).\n"
                     "# TYPE taskq_redis_up gauge\n"
                     "taskq_redis_up " +
                     std::string(s.ok() ? "1" : "0") + "\n";
                 if (s.ok()) r.body += queues;
                 http_metrics.AppendPrometheus(&r.body);
                 AppendBuildInfo(&r.body);
                 AppendProcessMetrics(&r.body);
                 return r;
               });
             });
  router.Add("GET", "/api/openapi.json", Scope::kNone,
             {"This API's OpenAPI 3 document.", {}, "", "", {200}},
             [&ctx](HttpRequest&&, const RouteParams&, Respond respond) {
               respond(JsonResponse(200, OpenApiDocument(ctx.router)));
             });
}

}  // namespace taskq::api
