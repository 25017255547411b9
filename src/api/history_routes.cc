// /api/queues/{queue}/history and /api/history: what happened in each bucket (a minute by
// default) of the last minutes, from the samples workers record in Redis (docs/metrics.md,
// "History"); the dashboard's charts start from it, so they survive reloads and restarts.
#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/query.h"
#include "client/queue_history.h"
#include "common/json_text.h"
#include "taskq/queue_history.h"

namespace taskq::api {
namespace {

constexpr int64_t kMaxMinutes = 10080;  // a week: as long as a recorder may keep

std::string Count(const std::optional<int64_t>& n) {
  return n ? std::to_string(*n) : std::string("null");
}

std::string RenderRows(const std::vector<QueueHistoryRow>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    const QueueHistoryRow& r = rows[i];
    if (i) out += ',';
    out += fmt::format(
        "{{\"t\":{},\"processed\":{},\"failed\":{},\"enqueued\":{},\"dead\":{},\"waiting\":{}}}",
        r.start_ms, Count(r.processed), Count(r.failed), Count(r.enqueued), Count(r.dead),
        r.waiting);
  }
  return out + "]";
}

Result<std::chrono::milliseconds> WindowParam(std::string_view query) {
  auto minutes = QueryInt(query, "minutes", 60, 1, kMaxMinutes);
  if (!minutes.ok()) return minutes.status();
  return std::chrono::milliseconds(*minutes * 60000);
}

// At most one row per second of the window: enough for the shortest bucket.
int32_t MaxRows(std::chrono::milliseconds window) {
  return static_cast<int32_t>(std::min<int64_t>(window.count() / 1000, 10080));
}

void GetQueueHistory(ApiContext& ctx, HttpRequest&& request, const RouteParams& params,
                     Respond respond) {
  auto window = WindowParam(request.query);
  if (!window.ok()) return respond(StatusResponse(window.status()));
  OnBackend(ctx, std::move(respond), [queue = params["queue"], window = *window](Backend& b) {
    if (Status s = CheckKnownQueue(b, queue); !s.ok()) return StatusResponse(s);
    auto history = b.inspector->History(queue, window, MaxRows(window));
    if (!history.ok()) return StatusResponse(history.status());
    return JsonResponse(200, "{\"queue\":" + JsonString(queue) +
                                 ",\"minutes\":" + RenderRows(history->rows) +
                                 fmt::format(",\"now_ms\":{}}}", history->now_ms));
  });
}

void GetHistory(ApiContext& ctx, HttpRequest&& request, const RouteParams&, Respond respond) {
  auto window = WindowParam(request.query);
  if (!window.ok()) return respond(StatusResponse(window.status()));
  OnBackend(ctx, std::move(respond), [window = *window](Backend& b) {
    auto queues = b.inspector->Queues();
    if (!queues.ok()) return StatusResponse(queues.status());
    std::vector<std::vector<QueueHistoryRow>> per_queue;
    int64_t now_ms = 0;
    for (const std::string& queue : *queues) {
      auto history = b.inspector->History(queue, window, MaxRows(window));
      if (!history.ok()) return StatusResponse(history.status());
      now_ms = std::max(now_ms, history->now_ms);
      per_queue.push_back(std::move(history->rows));
    }
    return JsonResponse(200, "{\"minutes\":" + RenderRows(client::SumHistoryRows(per_queue)) +
                                 fmt::format(",\"now_ms\":{}}}", now_ms));
  });
}

}  // namespace

void AddHistoryRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  const std::vector<std::string> query = {
      "minutes:integer:the buckets that started within this many minutes, 1 to 10080 "
      "(default 60)"};
  router.Add("GET", "/api/queues/{queue}/history", Scope::kRead,
             {"What happened in the queue in each bucket (a minute by default) of the window, "
              "oldest first, from the samples workers record: completions (processed), failed "
              "attempts, jobs created and jobs that went dead since the bucket before (null "
              "when that bucket has no sample), and the jobs waiting when it was sampled.",
              query,
              "",
              "History",
              {200, 404, 422}},
             bind(GetQueueHistory));
  router.Add("GET", "/api/history", Scope::kRead,
             {"The history of every queue, added bucket by bucket (a count is null only when no "
              "queue knows it).",
              query,
              "",
              "History",
              {200, 422}},
             bind(GetHistory));
}

}  // namespace taskq::api
