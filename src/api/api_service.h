// The HTTP API: routes, authentication and per-request metrics on top of the client library.
// Routes only parse, call one client/inspector function on a backend thread, and render
// (docs/http-api.md). Independent of the HTTP server: it answers HttpRequests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/alerts.h"
#include "api/api_keys.h"
#include "api/http_message.h"
#include "api/job_request.h"
#include "api/router.h"
#include "taskq/client.h"

namespace taskq::api {

struct JobTypeInfo {
  std::string name;
  // Checks the data of a job of this type at enqueue time; errors name the field ("data.to").
  // Empty: any JSON object.
  std::function<Status(std::string_view data_json)> validate;
  // The queues jobs of this type may go to (workers run them from these only); empty: any.
  std::vector<std::string> queues;
  // Top-level data fields holding secrets (a webhook's "headers"): redacted for callers without
  // the admin scope, and no such caller may filter jobs by them.
  std::vector<std::string> secret_fields;
};

struct ApiOptions {
  ClientOptions client;
  int backend_threads = 4;  // Redis connections for reads and operator actions
  JobRequestLimits request_limits;
  // Types the API accepts; others get 422 listing these. Empty list, or an entry named "*":
  // any type besides these.
  std::vector<JobTypeInfo> job_types;
  std::vector<ApiKey> api_keys;  // empty: no authentication
  // Without keys, a browser could be made to call the API by any site its user visits: refuse
  // mutating requests that a browser marks as coming from another site (request_origin.h).
  bool refuse_cross_site = true;
  // Refuse requests whose Host is neither a loopback name nor in allowed_hosts (DNS rebinding):
  // set whenever the API takes no keys, whatever address it listens on.
  bool check_host = false;
  std::vector<std::string> allowed_hosts;
  std::chrono::milliseconds max_wait{60000};  // cap of GET /api/jobs/{id}/wait?timeout_ms=
  // Job types only the admin scope may enqueue (an enqueue key must not delete jobs and files
  // through a cleanup job).
  std::vector<std::string> admin_only_types = {"cleanup"};
  size_t max_body_bytes = 1 << 20;  // every request but a bulk enqueue
  // POST /api/jobs/bulk, /api/flows, /api/batches and /api/batches/{id}/jobs, read once
  // credentials passed
  size_t max_bulk_body_bytes = 16 << 20;
  AlertThresholds alert_thresholds;  // GET /api/alerts
};

class ApiService {
 public:
  static Result<std::unique_ptr<ApiService>> Open(ApiOptions options);
  ~ApiService();
  ApiService(const ApiService&) = delete;
  ApiService& operator=(const ApiService&) = delete;

  // A RequestHandler for HttpServer. Respond may be called from a backend thread.
  void Handle(HttpRequest request, Respond respond);
  // The same for a caller that authenticated the request itself (the dashboard's session): API
  // keys are not asked for, and routes needing more than `granted` are refused with 403.
  void HandleAs(HttpRequest request, Scope granted, Respond respond);
  // A HeadCheck for HttpServer: refuses on the headers alone what Handle would refuse without
  // looking at the body (Host, cross-site, credentials, scope), so that no body is read before
  // the key is checked; and names the body limit of the route (max_bulk_body_bytes for a bulk
  // enqueue or a flow, max_body_bytes for the rest).
  HeadDecision CheckHead(const HttpRequest& head);
  // Finishes the work in flight and joins the backend threads. Call after the server stopped.
  void Stop();
  const Router& router() const;

 private:
  class Impl;
  explicit ApiService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace taskq::api
