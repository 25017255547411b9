#include "api/api_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/media_type.h"
#include "api/request_origin.h"
#include "common/text_list.h"

namespace taskq::api {

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

void OnBackend(ApiContext& ctx, Respond respond, std::function<HttpResponse(Backend&)> work) {
  ctx.pool.Post([respond = std::move(respond), work = std::move(work)](Backend& b) {
    HttpResponse response;
    try {
      response = work(b);
    } catch (const std::exception& e) {  // e.g. out of memory: this request fails, not the API
      spdlog::error("API request failed: {}", e.what());
      response = ErrorResponse(500, "internal", "the request failed inside taskq; see its log");
    }
    respond(std::move(response));
  });
}

HttpResponse BodyErrorResponse(const Status& status) {
  if (status.code() == StatusCode::kInvalidArgument && status.field().empty()) {
    return ErrorResponse(400, "malformed_json", status.message());
  }
  return StatusResponse(status);
}

class ApiService::Impl {
 public:
  Impl(ApiOptions options, std::unique_ptr<BackendPool> pool,
       std::unique_ptr<EnqueueBatcher> batcher)
      : options_(std::move(options)),
        keys_(options_.api_keys),
        pool_(std::move(pool)),
        batcher_(std::move(batcher)),
        waiters_(InspectorOptions{options_.client.redis_url, options_.client.key_prefix},
                 std::chrono::milliseconds(1000)),
        secret_fields_(MakeSecretFields(options_)),
        ctx_{options_, *pool_,  *batcher_,       rates_,        http_metrics_,
             waiters_, router_, MakeTypeCheck(), secret_fields_} {
    AddJobRoutes(router_, ctx_);
    AddFlowRoutes(router_, ctx_);
    AddBatchRoutes(router_, ctx_);
    AddQueueRoutes(router_, ctx_);
    AddLimitRoutes(router_, ctx_);
    AddShardRoutes(router_, ctx_);
    AddHistoryRoutes(router_, ctx_);
    AddAlertRoutes(router_, ctx_);
    AddScheduleRoutes(router_, ctx_);
    AddSystemRoutes(router_, ctx_);
  }

  // `granted`: the scope the caller vouches for; nullopt: authenticate with the API keys.
  void Handle(HttpRequest request, std::optional<Scope> granted, Respond respond) {
    const auto started = std::chrono::steady_clock::now();
    Router::Match match = router_.Find(request.method, request.path);
    const std::string route = match.route ? match.route->pattern : std::string("(unmatched)");
    // Every answer is counted under its route pattern and method; labels stay bounded, so an
    // unmatched request's method is counted only when it is one the API uses.
    std::string method = request.method;
    if (!match.route && method != "GET" && method != "POST" && method != "PUT" &&
        method != "DELETE") {
      method = "OTHER";
    }
    Respond counted = [this, method = std::move(method), route, started,
                       respond = std::move(respond)](HttpResponse response) {
      http_metrics_.Record(method, route, response.status,
                           std::chrono::steady_clock::now() - started);
      respond(std::move(response));
    };
    if (match.kind == Router::MatchKind::kNotFound) {
      return counted(ErrorResponse(404, "not_found", "no route for " + request.path));
    }
    if (match.kind == Router::MatchKind::kMethodNotAllowed) {
      HttpResponse r = ErrorResponse(
          405, "method_not_allowed",
          request.method + " is not allowed on " + request.path + "; allowed: " + match.allow);
      r.headers.emplace_back("Allow", match.allow);
      return counted(std::move(r));
    }
    const Caller caller = HeldScope(request, granted);
    if (auto refused = Refusal(request, *match.route, granted, caller.scope)) {
      return counted(std::move(*refused));
    }
    if (auto unsupported = UnsupportedMediaType(request)) return counted(std::move(*unsupported));
    request.caller_admin = caller.scope == Scope::kAdmin;
    if (caller.key != nullptr && !caller.key->types.empty()) {
      // Pausing, cleaning, retrying or acting on a whole queue reaches jobs of every type in it.
      if (match.route->scope == Scope::kAdmin && match.route->pattern.starts_with("/api/queues/")) {
        return counted(ErrorResponse(403, "forbidden",
                                     "this API key is limited to job types; routes that act on "
                                     "whole queues need a key without a type list"));
      }
      request.caller_types = caller.key->types;
    }
    const Route& found = *match.route;
    found.handler(std::move(request), match.params, std::move(counted));
  }

  // What refuses a request whatever its route: the Host rule (DNS rebinding) and, without keys,
  // cross-site mutating requests. nullopt: neither does.
  std::optional<HttpResponse> HostOrSiteRefusal(const HttpRequest& request,
                                                std::optional<Scope> granted) const {
    if (!granted && options_.check_host &&
        !IsAllowedHost(request.Header("host"), options_.allowed_hosts)) {
      return ErrorResponse(403, "host",
                           "this API without keys answers only to loopback names (localhost, "
                           "127.0.0.1, [::1]) and those of --allowed-hosts; configure API keys to "
                           "serve it under any name");
    }
    if (!granted && !keys_.enabled() && options_.refuse_cross_site && IsMutating(request.method) &&
        CrossSiteRequest(request)) {
      return ErrorResponse(403, "cross_site",
                           "a request from another site's page is refused (Origin or "
                           "Sec-Fetch-Site); configure API keys for browser clients");
    }
    return std::nullopt;
  }

  struct Caller {
    Scope scope = Scope::kNone;
    const ApiKey* key = nullptr;  // the API key presented, if any
  };

  // The scope a request holds: the one its caller vouches for (the dashboard's signed-in role),
  // else its API key's; every scope when the API takes no keys. The key is hashed here only.
  Caller HeldScope(const HttpRequest& request, std::optional<Scope> granted) const {
    if (granted) return {*granted, nullptr};
    if (!keys_.enabled()) return {Scope::kAdmin, nullptr};
    const ApiKey* key = keys_.Find(request.Header("authorization"));
    return {key ? key->scope : Scope::kNone, key};
  }

  // Why a request may not reach its route, judged from its method, path and headers alone (no
  // body needed): the Host and cross-site rules, then the scope `held` (HeldScope). nullopt: it
  // may.
  std::optional<HttpResponse> Refusal(const HttpRequest& request, const Route& found,
                                      std::optional<Scope> granted, Scope held) const {
    if (auto refused = HostOrSiteRefusal(request, granted)) return refused;
    if (granted && !ApiKeys::Grants(held, found.scope)) {
      return ErrorResponse(403, "forbidden",
                           std::string("the signed-in role grants ") + ScopeName(held) +
                               "; the route needs " + ScopeName(found.scope));
    }
    if (!granted && keys_.enabled() && found.scope != Scope::kNone) {
      if (held == Scope::kNone) {
        HttpResponse r =
            ErrorResponse(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
      }
      if (!ApiKeys::Grants(held, found.scope)) {
        return ErrorResponse(403, "forbidden",
                             std::string("this key's scope is ") + ScopeName(held) +
                                 "; the route needs " + ScopeName(found.scope));
      }
    }
    return std::nullopt;
  }

  HeadDecision CheckHead(const HttpRequest& head) {
    const auto started = std::chrono::steady_clock::now();
    HeadDecision decision;
    const bool bulk = head.method == "POST" &&
                      (head.path == "/api/jobs/bulk" || head.path == "/api/flows" ||
                       head.path == "/api/batches" ||
                       (head.path.starts_with("/api/batches/") && head.path.ends_with("/jobs")));
    decision.max_body_bytes = bulk ? options_.max_bulk_body_bytes : options_.max_body_bytes;
    std::string route;
    if (keys_.enabled()) {  // the route's scope decides
      Router::Match match = router_.Find(head.method, head.path);
      if (!match.route) return decision;  // 404 and 405 come from Handle
      route = match.route->pattern;
      decision.refuse =
          Refusal(head, *match.route, std::nullopt, HeldScope(head, std::nullopt).scope);
    } else {  // no keys: no route needed (this runs for every request, so it stays cheap)
      decision.refuse = HostOrSiteRefusal(head, std::nullopt);
      if (decision.refuse) {
        Router::Match match = router_.Find(head.method, head.path);
        if (!match.route) decision.refuse.reset();  // 404 and 405 come from Handle
        if (match.route) route = match.route->pattern;
      }
    }
    if (decision.refuse) {
      http_metrics_.Record(head.method, route, decision.refuse->status,
                           std::chrono::steady_clock::now() - started);
    }
    return decision;
  }

  void Stop() {
    pool_->Stop();
    waiters_.Stop();
    batcher_.reset();
  }

  const Router& router() const { return router_; }

 private:
  JobTypeCheck MakeTypeCheck() const {
    if (options_.job_types.empty()) return nullptr;
    const bool any_type = std::any_of(options_.job_types.begin(), options_.job_types.end(),
                                      [](const JobTypeInfo& type) { return type.name == "*"; });
    return [this, any_type](const EnqueueRequest& request) -> Status {
      for (const JobTypeInfo& type : options_.job_types) {
        if (type.name != request.type) continue;
        TASKQ_RETURN_IF_ERROR(CheckQueue(type, request));
        if (!type.validate) return Status::Ok();
        return type.validate(request.data_json);
      }
      if (any_type) return Status::Ok();
      std::vector<std::string_view> known;
      for (const JobTypeInfo& type : options_.job_types) known.push_back(type.name);
      return InvalidArgument("type",
                             "unknown job type '" + request.type + "'; known: " + JoinList(known));
    };
  }

  static SecretFields MakeSecretFields(const ApiOptions& options) {
    SecretFields secrets;
    for (const JobTypeInfo& type : options.job_types) {
      if (!type.secret_fields.empty()) secrets[type.name] = type.secret_fields;
    }
    return secrets;
  }

  // Workers run a type only from the queues configured for it: a job sent elsewhere would go
  // dead there, so it is refused here.
  static Status CheckQueue(const JobTypeInfo& type, const EnqueueRequest& request) {
    if (type.queues.empty()) return Status::Ok();
    const std::string& queue = request.options.queue.empty() ? type.name : request.options.queue;
    if (std::find(type.queues.begin(), type.queues.end(), queue) != type.queues.end()) {
      return Status::Ok();
    }
    return InvalidArgument("queue", "jobs of type '" + type.name + "' go only to queue " +
                                        JoinList(type.queues) + " (--type-queues)");
  }

  const ApiOptions options_;
  const ApiKeys keys_;
  std::unique_ptr<BackendPool> pool_;
  std::unique_ptr<EnqueueBatcher> batcher_;
  QueueRates rates_;
  HttpMetrics http_metrics_;
  JobWaiters waiters_;
  Router router_;  // immutable after construction
  const SecretFields secret_fields_;
  ApiContext ctx_;
};

Result<std::unique_ptr<ApiService>> ApiService::Open(ApiOptions options) {
  auto pool = BackendPool::Open(options.client, options.backend_threads);
  if (!pool.ok()) return pool.status();
  auto batcher = EnqueueBatcher::Open(options.client);
  if (!batcher.ok()) return batcher.status();
  return std::unique_ptr<ApiService>(new ApiService(
      std::make_unique<Impl>(std::move(options), std::move(*pool), std::move(*batcher))));
}

ApiService::ApiService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiService::~ApiService() { impl_->Stop(); }
void ApiService::Handle(HttpRequest request, Respond respond) {
  impl_->Handle(std::move(request), std::nullopt, std::move(respond));
}
void ApiService::HandleAs(HttpRequest request, Scope granted, Respond respond) {
  impl_->Handle(std::move(request), granted, std::move(respond));
}
HeadDecision ApiService::CheckHead(const HttpRequest& head) { return impl_->CheckHead(head); }
void ApiService::Stop() { impl_->Stop(); }
const Router& ApiService::router() const { return impl_->router(); }

}  // namespace taskq::api
