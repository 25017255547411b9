// The dashboard's HTTP side (docs/dashboard.md): the embedded page and assets under the base
// path, sign-in and sessions, the HTTP API passed through under BASE/api with the session's role
// as its scope and CSRF checked on every mutating request, and the live event stream.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/api_keys.h"
#include "api/api_service.h"
#include "api/http_message.h"
#include "dashboard/session_store.h"
#include "taskq/inspector.h"

namespace taskq::dashboard {

struct DashboardOptions {
  std::string base_path = "/admin/queues";
  std::string api_url = "http://127.0.0.1:8000";  // for "copy as curl"
  std::vector<DashboardUser> users;
  // API keys sign in too: admin as admin, read and enqueue as read. With neither users nor keys
  // the dashboard opens without login (only allowed on loopback; see api_runner).
  std::vector<api::ApiKey> api_keys;
  // Refuse requests whose Host is neither a loopback name nor in allowed_hosts (DNS rebinding):
  // set whenever the dashboard has no login, where the page would hand anyone an admin session.
  bool check_host = false;
  std::vector<std::string> allowed_hosts;
  SessionStoreOptions sessions;
  InspectorOptions redis;    // where the live events are read
  size_t max_streams = 100;  // live event streams open at once
};

class DashboardService {
 public:
  // `api` must outlive the service.
  DashboardService(DashboardOptions options, api::ApiService& api);
  ~DashboardService();
  DashboardService(const DashboardService&) = delete;
  DashboardService& operator=(const DashboardService&) = delete;

  // A RequestHandler for the dashboard's HttpServer.
  void Handle(api::HttpRequest request, api::Respond respond);
  // Closes the live streams and joins the service's threads. Call after its server stopped.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taskq::dashboard
