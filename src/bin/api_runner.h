// Wires the HTTP API and the dashboard listener from flags: listen addresses, keys, limits, and
// the rule that taskq refuses to listen beyond loopback without credentials (API keys; for the
// dashboard, users or API keys) unless told --insecure.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/api_service.h"
#include "api/http_server.h"
#include "dashboard/dashboard_service.h"

namespace taskq::bin {

struct ApiFlags {
  std::string listen = "127.0.0.1:8000";
  std::string dashboard_listen = "127.0.0.1:3000";  // empty: no dashboard listener
  std::string dashboard_base_path = "/admin/queues";
  std::vector<std::string> api_keys;         // "SCOPE:TOKEN" or "SCOPE:sha256:HEX"
  std::vector<std::string> dashboard_users;  // "NAME:ROLE:HASH" (dashboard/session_store.h)
  // Job types accepted beyond the built-in ones (custom handlers); "*" accepts any type.
  std::vector<std::string> job_types;
  // "TYPE=FIELD+FIELD": data fields redacted for callers without the admin scope.
  std::vector<std::string> secret_fields;
  // Job types only admin keys may enqueue or schedule; an empty entry stands for none.
  std::vector<std::string> admin_only_types = {"cleanup"};
  bool insecure = false;
  // Host names the API and dashboard answer to when they take no credentials, besides loopback
  // names and the listen address (DNS rebinding defence).
  std::vector<std::string> allowed_hosts;
  int io_threads = 1;
  int backend_threads = 4;
  size_t max_body_bytes = 1 << 20;        // any request but a bulk enqueue, a flow or a batch
  size_t max_bulk_body_bytes = 16 << 20;  // POST /api/jobs/bulk and /api/flows, after credentials
  size_t max_header_bytes = 16 << 10;
  size_t max_bulk = 1000;
  size_t max_flow_jobs = 1000;  // POST /api/flows
  // POST /api/batches and /api/batches/{id}/jobs: jobs per request, and per batch over its
  // additions (checked before each addition, best-effort: BatchLimits::max_total).
  size_t max_batch_jobs = taskq::kMaxBulkJobs;
  size_t max_batch_total = taskq::kMaxBatchJobs;
  int max_json_depth = 32;
  int max_connections = 1024;
  int max_connections_per_client = 128;
  int64_t header_timeout_ms = 10000;
  int64_t request_timeout_ms = 30000;
  int64_t max_wait_ms = 60000;
  int64_t alert_dead_window_min = 10;
  int64_t alert_oldest_waiting_s = 300;
  int64_t alert_schedule_late_s = 60;
};

class ApiRunner {
 public:
  ~ApiRunner();  // stops
  // Validates the flags (errors name the flag), opens the service and starts both listeners.
  static Result<std::unique_ptr<ApiRunner>> Start(const ApiFlags& flags, ClientOptions client,
                                                  std::vector<api::JobTypeInfo> job_types);
  void Stop();
  uint16_t api_port() const { return api_server_->port(); }

 private:
  ApiRunner() = default;
  std::unique_ptr<api::ApiService> service_;
  std::unique_ptr<api::HttpServer> api_server_;
  std::unique_ptr<dashboard::DashboardService> dashboard_;
  std::unique_ptr<api::HttpServer> dashboard_server_;
};

}  // namespace taskq::bin
