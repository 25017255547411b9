// /api/queues/{queue}/shards: how many shards a queue is spread over, each shard's counts, and
// changing the number (docs/architecture.md, "Sharded queues").
#include <fmt/format.h>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/shards_request.h"
#include "common/json_text.h"

namespace taskq::api {
namespace {

std::string RenderShards(const std::string& queue, const QueueShards& shards) {
  std::string out = "{\"queue\":" + JsonString(queue) +
                    fmt::format(",\"shards\":{},\"version\":{},\"breakdown\":[",
                                shards.shards.size(), shards.version);
  for (const QueueShard& s : shards.shards) {
    const QueueCounts& c = s.counts;
    if (s.index > 0) out += ',';
    out += fmt::format("{{\"shard\":{},\"tag\":", s.index);
    AppendJsonString(&out, s.tag);
    // null off a cluster: a field always there reads the same on one Redis and on a cluster.
    out += ",\"master\":";
    if (s.master.empty()) {
      out += "null";
    } else {
      AppendJsonString(&out, s.master);
    }
    out += fmt::format(
        ",\"counts\":{{\"waiting\":{},\"delayed\":{},\"active\":{},\"completed\":{},"
        "\"retrying\":{},\"dead\":{},\"held\":{}}},\"totals\":{{\"completed\":{},\"failed\":{},"
        "\"enqueued\":{},\"dead\":{}}}}}",
        c.waiting, c.delayed, c.active, c.completed, c.retrying, c.dead, c.held, c.completed_total,
        c.failed_total, c.enqueued_total, c.dead_total);
  }
  return out + "]}";
}

void GetShards(ApiContext& ctx, HttpRequest&&, const RouteParams& params, Respond respond) {
  OnBackend(ctx, std::move(respond), [queue = params["queue"]](Backend& b) {
    auto shards = b.inspector->ShardBreakdown(queue);
    if (!shards.ok()) return StatusResponse(shards.status());
    return JsonResponse(200, RenderShards(queue, *shards));
  });
}

void PutShards(ApiContext& ctx, HttpRequest&& request, const RouteParams& params, Respond respond) {
  auto shards = ParseShardsRequest(request.body);
  if (!shards.ok()) return respond(BodyErrorResponse(shards.status()));
  OnBackend(ctx, std::move(respond), [queue = params["queue"], n = *shards](Backend& b) {
    if (Status s = b.inspector->SetShards(queue, n); !s.ok()) return StatusResponse(s);
    auto now = b.inspector->ShardBreakdown(queue);
    if (!now.ok()) return StatusResponse(now.status());
    return JsonResponse(200, RenderShards(queue, *now));
  });
}

}  // namespace

void AddShardRoutes(Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) { return BindRoute(ctx, fn); };
  router.Add("GET", "/api/queues/{queue}/shards", Scope::kRead,
             {"How many shards the queue is spread over, and each shard's counts and, on a "
              "Redis Cluster, the master serving it (a queue never sharded has one, shard 0).",
              {},
              "",
              "Shards",
              {200}},
             bind(GetShards));
  router.Add("PUT", "/api/queues/{queue}/shards", Scope::kAdmin,
             {"Spread the queue over this many shards (1 to 32), placed on distinct masters of "
              "a Redis Cluster where there are enough. Only while the queue holds no job at "
              "all (completed and dead ones too) and, when the old or new layout has more than "
              "one shard, no limits: 409 naming what is in the way otherwise.",
              {},
              "ShardsRequest",
              "Shards",
              {200, 400, 409, 415, 422}},
             bind(PutShards));
}

}  // namespace taskq::api
