#include "bin/api_runner.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>

#include "common/job_codec.h"
#include "common/text_list.h"
#include "common/url_password.h"

namespace taskq::bin {
namespace {

// Raises this process' open-file limit to its hard limit (systemd and Docker often start
// processes with a soft limit of 1024), and caps `wanted` connections to what then fits beside
// the other descriptors (Redis connections, files): at the limit, accept() fails and every new
// client hangs, where over --max-connections it gets a 503.
int MaxConnectionsWithinFileLimit(int wanted) {
  constexpr rlim_t kReserve = 128;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= static_cast<rlim_t>(wanted) + kReserve) {
    return wanted;
  }
  const int fits = limit.rlim_cur > 2 * kReserve ? static_cast<int>(limit.rlim_cur - kReserve)
                                                 : static_cast<int>(limit.rlim_cur / 2);
  spdlog::warn("open-file limit {}: serving at most {} HTTP connections (--max-connections {})",
               limit.rlim_cur, fits, wanted);
  return fits;
}

// The Host names a listener without credentials answers to besides loopback ones: the operator's
// --allowed-hosts and the address it listens on, unless that is a wildcard (every interface).
std::vector<std::string> AllowedHosts(const std::vector<std::string>& flag,
                                      const std::string& listen_host) {
  std::vector<std::string> hosts = flag;
  if (listen_host != "0.0.0.0" && listen_host != "::" && !listen_host.empty()) {
    hosts.push_back(listen_host);
  }
  return hosts;
}

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
  bool loopback = false;
};

// "HOST:PORT", "[V6]:PORT" or "localhost:PORT".
Result<ListenAddress> ParseListen(const std::string& flag, const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument(flag, "must be HOST:PORT, e.g. 127.0.0.1:8000");
  }
  ListenAddress out;
  out.host = text.substr(0, colon);
  if (out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host == "localhost") out.host = "127.0.0.1";
  int port = -1;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port < 0 || port > 65535) {
    return InvalidArgument(flag, "port must be in [0, 65535]");
  }
  out.port = static_cast<uint16_t>(port);
  out.loopback = out.host.starts_with("127.") || out.host == "::1";
  return out;
}

}  // namespace

ApiRunner::~ApiRunner() { Stop(); }

Result<std::unique_ptr<ApiRunner>> ApiRunner::Start(const ApiFlags& flags, ClientOptions client,
                                                    std::vector<api::JobTypeInfo> job_types) {
  auto api_address = ParseListen("--listen", flags.listen);
  if (!api_address.ok()) return api_address.status();
  std::optional<ListenAddress> dashboard_address;
  if (!flags.dashboard_listen.empty()) {
    auto parsed = ParseListen("--dashboard-listen", flags.dashboard_listen);
    if (!parsed.ok()) return parsed.status();
    dashboard_address = *parsed;
  }
  api::ApiOptions options;
  for (const std::string& spec : flags.api_keys) {
    auto keys = api::ParseApiKeys(spec);
    if (!keys.ok()) return InvalidArgument("--api-key", keys.status().message());
    options.api_keys.insert(options.api_keys.end(), keys->begin(), keys->end());
  }
  std::vector<dashboard::DashboardUser> users;
  for (const std::string& specs : flags.dashboard_users) {
    for (std::string_view one : SplitList(specs)) {  // as TASKQ_DASHBOARD_USERS holds them
      auto user = dashboard::ParseDashboardUser(one);
      if (!user.ok()) return InvalidArgument("--dashboard-user", user.status().message());
      users.push_back(std::move(*user));
    }
  }
  const bool open_api = !api_address->loopback && options.api_keys.empty();
  const bool open_dashboard = dashboard_address && !dashboard_address->loopback &&
                              options.api_keys.empty() && users.empty();
  if ((open_api || open_dashboard) && !flags.insecure) {
    return Status(StatusCode::kFailedPrecondition,
                  open_api ? "refusing to listen beyond loopback without API keys: set --api-key / "
                             "TASKQ_API_KEYS, or pass --insecure if the network is trusted"
                           : "refusing to serve the dashboard beyond loopback without login: set "
                             "--dashboard-user (or --api-key), or pass --insecure if the network "
                             "is trusted");
  }
  if (open_api || open_dashboard) {
    spdlog::warn("listening beyond loopback WITHOUT authentication (--insecure)");
  }
  // Without credentials, a name that resolves to this listener (DNS rebinding) must not reach
  // it, wherever it listens: only loopback names, the listen address and --allowed-hosts do.
  options.check_host = options.api_keys.empty();
  options.admin_only_types.clear();
  for (const std::string& type : flags.admin_only_types) {
    if (type.empty()) continue;
    if (Status s = ValidateName("--admin-only-types", type); !s.ok()) return s;
    options.admin_only_types.push_back(type);
  }
  options.allowed_hosts = AllowedHosts(flags.allowed_hosts, api_address->host);
  client.max_bulk = std::max(client.max_bulk, flags.max_bulk);
  client.flow_limits.max_jobs = flags.max_flow_jobs;
  client.batch_limits.max_jobs = flags.max_batch_jobs;
  client.batch_limits.max_total = flags.max_batch_total;
  options.client = std::move(client);
  options.backend_threads = flags.backend_threads;
  options.request_limits.max_bulk = flags.max_bulk;
  options.request_limits.max_json_depth = flags.max_json_depth;
  options.client.max_json_depth = flags.max_json_depth;
  options.job_types = std::move(job_types);
  options.max_wait = std::chrono::milliseconds(flags.max_wait_ms);
  options.alert_thresholds = {flags.alert_dead_window_min, flags.alert_oldest_waiting_s * 1000,
                              flags.alert_schedule_late_s * 1000};
  options.max_body_bytes = flags.max_body_bytes;
  options.max_bulk_body_bytes = flags.max_bulk_body_bytes;
  const std::string redis_url = options.client.redis_url;
  const std::vector<api::ApiKey> api_keys = options.api_keys;
  const std::string key_prefix = options.client.key_prefix;

  std::unique_ptr<ApiRunner> runner(new ApiRunner());
  auto service = api::ApiService::Open(std::move(options));
  if (!service.ok()) return service.status();
  runner->service_ = std::move(*service);

  api::HttpServerOptions server;
  server.host = api_address->host;
  server.port = api_address->port;
  server.threads = flags.io_threads;
  // Per route, decided from the headers (ApiService::CheckHead), once credentials are checked.
  server.max_body_bytes = std::max(flags.max_body_bytes, flags.max_bulk_body_bytes);
  server.max_header_bytes = flags.max_header_bytes;
  server.max_connections = MaxConnectionsWithinFileLimit(flags.max_connections);
  server.max_connections_per_client = flags.max_connections_per_client;
  server.header_timeout = std::chrono::milliseconds(flags.header_timeout_ms);
  server.request_timeout = std::chrono::milliseconds(flags.request_timeout_ms);
  // A wait may legitimately take max_wait; the answer still has a deadline beyond it.
  server.response_timeout =
      std::chrono::milliseconds(std::max(flags.request_timeout_ms, flags.max_wait_ms + 5000));
  api::ApiService* raw = runner->service_.get();
  server.on_head = [raw](const api::HttpRequest& head) { return raw->CheckHead(head); };
  runner->api_server_ =
      std::make_unique<api::HttpServer>(server, [raw](api::HttpRequest r, api::Respond respond) {
        raw->Handle(std::move(r), std::move(respond));
      });
  // The API answers (its /healthz too) only once the dashboard listens as well: a health check
  // that passed means the whole process is up.
  TASKQ_RETURN_IF_ERROR(runner->api_server_->Listen());
  spdlog::info("API listening on http://{}:{} (Redis {}, {})", api_address->host,
               runner->api_server_->port(), MaskUrlPassword(redis_url),
               flags.api_keys.empty() ? "no API keys" : "API keys required");

  if (dashboard_address) {
    dashboard::DashboardOptions dash;
    dash.base_path = flags.dashboard_base_path;
    const bool v6 = api_address->host.find(':') != std::string::npos;
    dash.api_url = "http://" + (v6 ? "[" + api_address->host + "]" : api_address->host) + ":" +
                   std::to_string(runner->api_port());
    dash.users = std::move(users);
    dash.api_keys = api_keys;
    dash.redis = InspectorOptions{redis_url, key_prefix};
    dash.check_host = api_keys.empty() && dash.users.empty();
    dash.allowed_hosts = AllowedHosts(flags.allowed_hosts, dashboard_address->host);
    runner->dashboard_ = std::make_unique<dashboard::DashboardService>(dash, *runner->service_);
    api::HttpServerOptions dash_server = server;
    dash_server.host = dashboard_address->host;
    dash_server.port = dashboard_address->port;
    dash_server.threads = 1;
    // The page sends small bodies (a job from the form, up to 1000 ids): no need to read more
    // from a client that has not signed in yet.
    dash_server.max_body_bytes = std::min<size_t>(flags.max_body_bytes, 2 << 20);
    dash_server.on_head = nullptr;
    dashboard::DashboardService* d = runner->dashboard_.get();
    runner->dashboard_server_ = std::make_unique<api::HttpServer>(
        dash_server, [d](api::HttpRequest r, api::Respond respond) {
          d->Handle(std::move(r), std::move(respond));
        });
    TASKQ_RETURN_IF_ERROR(runner->dashboard_server_->Start());
    spdlog::info("dashboard on http://{}:{}{}", dashboard_address->host,
                 runner->dashboard_server_->port(), dash.base_path);
  }
  TASKQ_RETURN_IF_ERROR(runner->api_server_->Start());
  return runner;
}

void ApiRunner::Stop() {
  // Listeners first: no new requests. Then the service finishes what is in flight; the servers'
  // event loops are stopped, so its late answers go nowhere (HttpServer's contract).
  if (dashboard_server_) dashboard_server_->Stop();
  if (dashboard_) dashboard_->Stop();  // its live streams write into the stopped server no more
  if (api_server_) api_server_->Stop();
  if (service_) service_->Stop();
}

}  // namespace taskq::bin
