// What the route files share: the backends, the batcher and the API's own bookkeeping. Internal
// to src/api.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api_service.h"
#include "api/backend_pool.h"
#include "api/enqueue_batcher.h"
#include "api/http_metrics.h"
#include "api/job_json.h"
#include "api/job_waiters.h"
#include "api/queue_rates.h"
#include "api/router.h"

namespace taskq::api {

struct ApiContext {
  const ApiOptions& options;
  BackendPool& pool;
  EnqueueBatcher& batcher;
  QueueRates& rates;
  HttpMetrics& http_metrics;
  JobWaiters& waiters;
  const Router& router;
  JobTypeCheck check_type;
  const SecretFields& secret_fields;  // of the types that have any

  // How the caller of `request` sees job data.
  DataView ViewFor(const HttpRequest& request) const {
    return {&secret_fields, !request.caller_admin};
  }
};

HttpResponse JsonResponse(int status, std::string body);
// Runs `work` on a backend thread and answers with what it returns.
void OnBackend(ApiContext& ctx, Respond respond, std::function<HttpResponse(Backend&)> work);
// Renders a parse error of a request body: 400 when the JSON is malformed, else StatusResponse.
HttpResponse BodyErrorResponse(const Status& status);

// 403 when the caller may not create or act on jobs of `type`: an admin-only type
// (ApiOptions::admin_only_types) and no admin scope, or a type its API key is not limited to.
// `field` names where the type came from ("type", "jobs[3].type").
std::optional<HttpResponse> TypeRefusal(const ApiContext& ctx, const HttpRequest& request,
                                        const std::string& type, const std::string& field);
// The API key part of TypeRefusal alone, for a job that exists (its key may act on it).
std::optional<HttpResponse> KeyTypeRefusal(const std::vector<std::string>& caller_types,
                                           const std::string& type, const std::string& field);

// Adapts fn(ApiContext&, HttpRequest&&, const RouteParams&, Respond) to a RouteHandler.
template <typename F>
RouteHandler BindRoute(ApiContext& ctx, F fn) {
  return [&ctx, fn](HttpRequest&& r, const RouteParams& p, Respond respond) {
    fn(ctx, std::move(r), p, std::move(respond));
  };
}

// 404 unless the queue is known (enqueued to or worked on at least once).
Status CheckKnownQueue(Backend& b, const std::string& queue);

// Route registration, one function per file.
void AddJobRoutes(Router& router, ApiContext& ctx);
void AddFlowRoutes(Router& router, ApiContext& ctx);
void AddBatchRoutes(Router& router, ApiContext& ctx);
void AddQueueRoutes(Router& router, ApiContext& ctx);
void AddLimitRoutes(Router& router, ApiContext& ctx);
void AddShardRoutes(Router& router, ApiContext& ctx);
void AddSystemRoutes(Router& router, ApiContext& ctx);
void AddScheduleRoutes(Router& router, ApiContext& ctx);
void AddHistoryRoutes(Router& router, ApiContext& ctx);
void AddAlertRoutes(Router& router, ApiContext& ctx);
// The OpenAPI 3 document of every route in `router` (openapi.cc).
std::string OpenApiDocument(const Router& router);

}  // namespace taskq::api
