#include "dashboard/dashboard_service.h"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "api/api_error.h"
#include "api/request_origin.h"
#include "common/json_fields.h"
#include "common/json_text.h"
#include "dashboard/assets.h"
#include "dashboard/bull_board_urls.h"
#include "dashboard/event_hub.h"
#include "dashboard/login_throttle.h"
#include "dashboard/password_hash.h"
#include "dashboard/session_store.h"

namespace taskq::dashboard {
namespace {

constexpr std::string_view kCookie = "taskq_session";
constexpr size_t kMaxPendingLogins = 16;

// No inline script or style can run, nothing is framed, nothing is sent elsewhere.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

void AddSecurityHeaders(api::HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
}

// The value of cookie `name` in a Cookie header ("a=1; taskq_session=…").
std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
  }
  return {};
}

api::HttpResponse Forbidden(std::string_view code, std::string_view message) {
  return api::ErrorResponse(403, code, message);
}

// An event stream that ends with its session: each write checks that the session still exists,
// so signing out (or its expiry) stops the live updates too.
class SessionStream : public api::ResponseStream {
 public:
  SessionStream(std::shared_ptr<api::ResponseStream> inner, std::string token,
                SessionStore& sessions)
      : inner_(std::move(inner)), token_(std::move(token)), sessions_(sessions) {}
  bool Write(std::string text) override {
    if (!sessions_.Find(token_)) {
      inner_->Close();
      return false;
    }
    return inner_->Write(std::move(text));
  }
  void Close() override { inner_->Close(); }
  bool open() const override { return inner_->open(); }

 private:
  const std::shared_ptr<api::ResponseStream> inner_;
  const std::string token_;
  SessionStore& sessions_;
};

// Runs password checks one at a time on a thread of their own: each costs the hash's
// iterations (hundreds of ms), which must not stall I/O, and serializing them also slows
// guessing. Beyond kMaxPendingLogins waiting checks, new ones are refused.
class LoginThread {
 public:
  LoginThread() : thread_([this] { Run(); }) {}
  ~LoginThread() { Stop(); }

  bool Post(std::function<void()> work) {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= kMaxPendingLogins) return false;
    queue_.push_back(std::move(work));
    cv_.notify_one();
    return true;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      cv_.notify_one();
    }
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything accepted was done
      auto work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace

class DashboardService::Impl {
 public:
  Impl(DashboardOptions options, api::ApiService& api)
      : options_(std::move(options)),
        keys_(options_.api_keys),
        login_required_(!options_.users.empty() || !options_.api_keys.empty()),
        sessions_(options_.sessions),
        api_(api),
        hub_(EventHubOptions{options_.redis, std::chrono::milliseconds(1000),
                             std::chrono::milliseconds(5000), std::chrono::milliseconds(500),
                             options_.max_streams},
             [this](std::function<void(std::string)> deliver) { Snapshot(std::move(deliver)); }) {}

  void Handle(api::HttpRequest request, api::Respond respond) {
    Respond secured = [respond = std::move(respond)](api::HttpResponse r) {
      AddSecurityHeaders(r);
      respond(std::move(r));
    };
    if (options_.check_host &&
        !api::IsAllowedHost(request.Header("host"), options_.allowed_hosts)) {
      return secured(Forbidden("host",
                               "this dashboard without login answers only to loopback names "
                               "(localhost, 127.0.0.1, [::1]) and those of --allowed-hosts; "
                               "configure users to serve it under any name"));
    }
    const std::string& base = options_.base_path;
    if (request.path == "/" && base != "/") return secured(Redirect(base + "/"));
    std::string_view rest;
    if (request.path == base) {
      rest = "/";
    } else if (request.path.starts_with(base) &&
               (base.ends_with('/') || request.path[base.size()] == '/')) {
      rest = std::string_view(request.path)
                 .substr(base.ends_with('/') ? base.size() - 1 : base.size());
    } else {
      return secured(api::ErrorResponse(404, "not_found", "no page at " + request.path));
    }
    if (rest == "/") return secured(Page(request));
    if (rest.starts_with("/assets/")) return secured(ServeAsset(request, rest.substr(8)));
    if (rest == "/session") return HandleSession(std::move(request), std::move(secured));
    if (rest.starts_with("/api/")) {
      return HandleApi(std::move(request), std::string(rest), std::move(secured));
    }
    if (std::optional<std::string> fragment = BullBoardFragment(rest, request.query)) {
      return secured(Redirect(base + (base.ends_with('/') ? "" : "/") + *fragment));
    }
    secured(api::ErrorResponse(404, "not_found", "no page at " + request.path));
  }

  void Stop() {
    hub_.Stop();
    login_thread_.Stop();
  }

 private:
  using Respond = api::Respond;

  static api::HttpResponse Redirect(std::string location) {
    api::HttpResponse r;
    r.status = 302;
    r.content_type.clear();
    r.headers.emplace_back("Location", std::move(location));
    return r;
  }

  static api::HttpResponse OnlyGet(const api::HttpRequest& request) {
    api::HttpResponse r = api::ErrorResponse(405, "method_not_allowed",
                                             request.method + " is not allowed here; only GET");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }

  // index.html with %BASE% replaced by the base path, so the page finds its assets wherever the
  // dashboard is mounted.
  api::HttpResponse Page(const api::HttpRequest& request) const {
    if (request.method != "GET" && request.method != "HEAD") return OnlyGet(request);
    const Asset* index = FindAsset("index.html");
    if (!index)
      return api::ErrorResponse(500, "internal", "the dashboard was built without its page");
    std::string base = options_.base_path;
    if (base.ends_with('/')) base.pop_back();
    std::string body(index->body);
    for (size_t at = body.find("%BASE%"); at != std::string::npos; at = body.find("%BASE%", at)) {
      body.replace(at, 6, base);
      at += base.size();
    }
    api::HttpResponse r;
    r.content_type = std::string(index->content_type);
    r.body = std::move(body);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }

  static api::HttpResponse ServeAsset(const api::HttpRequest& request, std::string_view path) {
    if (request.method != "GET" && request.method != "HEAD") return OnlyGet(request);
    const Asset* asset = FindAsset(path);
    if (!asset) return api::ErrorResponse(404, "not_found", "no asset " + std::string(path));
    api::HttpResponse r;
    r.headers.emplace_back("ETag", std::string(asset->etag));
    r.headers.emplace_back("Cache-Control", "no-cache");  // revalidated: cheap with the ETag
    if (request.Header("if-none-match") == asset->etag) {
      r.status = 304;
      r.content_type.clear();
      return r;
    }
    r.content_type = std::string(asset->content_type);
    r.body = std::string(asset->body);
    return r;
  }

  // secure: the page is HTTPS behind a proxy (api::RequestOverHttps).
  std::string CookieHeader(bool secure, std::string_view token, bool clear) const {
    std::string path = options_.base_path;
    return std::string(kCookie) + "=" + std::string(token) + "; Path=" + path +
           "; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "") + "; Max-Age=" +
           (clear ? std::string("0") : std::to_string(options_.sessions.lifetime.count()));
  }

  api::HttpResponse SessionResponse(const Session* session) const {
    std::string body = "{\"auth\":";
    body += login_required_ ? "\"login\"" : "\"none\"";
    body += ",\"user\":";
    body += session && !session->user.empty() ? JsonString(session->user) : "null";
    body += ",\"role\":";
    body += session ? JsonString(RoleName(session->role)) : "null";
    body += ",\"csrf\":";
    body += session ? JsonString(session->csrf) : "null";
    body += ",\"api_url\":" + JsonString(options_.api_url);
    body += options_.api_keys.empty() ? ",\"api_keys\":false" : ",\"api_keys\":true";
    body += ",\"base_path\":" + JsonString(options_.base_path) + "}";
    api::HttpResponse r;
    r.body = std::move(body);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  std::optional<Session> CurrentSession(const api::HttpRequest& request, std::string* token) {
    *token = std::string(CookieValue(request.Header("cookie"), kCookie));
    return sessions_.Find(*token);
  }

  // A mutating request needs the session's CSRF token in X-CSRF-Token and must not come from
  // another site's page.
  static bool CsrfOk(const api::HttpRequest& request, const Session& session) {
    return !api::CrossSiteRequest(request) &&
           TokensEqual(request.Header("x-csrf-token"), session.csrf);
  }

  void HandleSession(api::HttpRequest request, Respond respond) {
    std::string token;
    std::optional<Session> session = CurrentSession(request, &token);
    if (request.method == "GET" || request.method == "HEAD") {
      if (session || login_required_)
        return respond(SessionResponse(session ? &*session : nullptr));
      // No login configured: every visitor gets an anonymous admin session (its CSRF token is
      // what protects the actions).
      Session anonymous;
      token = sessions_.Create("", Role::kAdmin, &anonymous);
      if (token.empty()) return respond(api::ErrorResponse(500, "internal", "no random token"));
      api::HttpResponse r = SessionResponse(&anonymous);
      r.headers.emplace_back("Set-Cookie",
                             CookieHeader(api::RequestOverHttps(request), token, false));
      return respond(std::move(r));
    }
    if (request.method == "DELETE") {
      if (session && !CsrfOk(request, *session)) return respond(CsrfError());
      if (session) sessions_.Remove(token);
      api::HttpResponse r = SessionResponse(nullptr);
      r.headers.emplace_back("Set-Cookie", CookieHeader(api::RequestOverHttps(request), "", true));
      return respond(std::move(r));
    }
    if (request.method == "POST") return SignIn(std::move(request), std::move(respond));
    api::HttpResponse r = api::ErrorResponse(405, "method_not_allowed",
                                             request.method + " is not allowed on the session");
    r.headers.emplace_back("Allow", "GET, POST, DELETE");
    respond(std::move(r));
  }

  static api::HttpResponse CsrfError() {
    return Forbidden("csrf",
                     "missing or wrong X-CSRF-Token header (take it from GET session), or a "
                     "request from another site");
  }

  // POST BASE/session {"username","password"} or {"api_key"}.
  void SignIn(api::HttpRequest request, Respond respond) {
    if (api::CrossSiteRequest(request)) return respond(CsrfError());
    // JSON only: a form of another site cannot send it (a text/plain form can fake the body).
    if (!request.Header("content-type").starts_with("application/json")) {
      return respond(api::ErrorResponse(415, "unsupported_media_type",
                                        "sign in with Content-Type: application/json"));
    }
    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(request.body, ec);
    if (ec || !body.is_object()) {
      return respond(api::ErrorResponse(400, "malformed_json", "the body must be a JSON object"));
    }
    const boost::json::object& o = body.as_object();
    std::string user, password, api_key;
    for (const auto& field : o) {
      const std::string name(field.key());
      std::string* out = name == "username"   ? &user
                         : name == "password" ? &password
                         : name == "api_key"  ? &api_key
                                              : nullptr;
      Status s =
          out ? ReadString(field.value(), name, out)
              : InvalidArgument(name, "is not a field of a sign-in (username, password, api_key)");
      if (s.ok() && out->size() > 1024) s = InvalidArgument(name, "is longer than 1024 bytes");
      if (!s.ok()) return respond(api::StatusResponse(s));
    }
    if (api_key.empty() && (user.empty() || password.empty())) {
      return respond(api::StatusResponse(InvalidArgument(user.empty() ? "username" : "password",
                                                         "is required (or sign in with api_key)")));
    }
    const std::string client = request.client_address;
    if (std::optional<std::chrono::seconds> wait =
            login_throttle_.Begin(client, LoginThrottle::Clock::now())) {
      api::HttpResponse r =
          api::ErrorResponse(429, "too_many_sign_ins",
                             "too many sign-ins from this address; try again in " +
                                 std::to_string(wait->count()) + " s");
      r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
      return respond(std::move(r));
    }
    const bool posted = login_thread_.Post(
        [this, user = std::move(user), password = std::move(password), api_key = std::move(api_key),
         secure = api::RequestOverHttps(request), client, respond]() mutable {
          api::HttpResponse response = CheckCredentials(user, password, api_key, secure, client);
          login_throttle_.Finish(client, response.status != 401, LoginThrottle::Clock::now());
          respond(std::move(response));
        });
    if (!posted) {
      login_throttle_.Finish(client, true, LoginThrottle::Clock::now());  // not tried: no failure
      api::HttpResponse r =
          api::ErrorResponse(503, "busy", "too many sign-ins at once; try again in a second");
      r.headers.emplace_back("Retry-After", "1");
      respond(std::move(r));
    }
  }

  // On the login thread.
  api::HttpResponse CheckCredentials(const std::string& user, const std::string& password,
                                     const std::string& api_key, bool secure,
                                     const std::string& client) {
    std::optional<Role> role;
    std::string name;
    if (!api_key.empty()) {
      const api::ApiKey* key = keys_.Find("Bearer " + api_key);
      if (key != nullptr && !key->types.empty()) {
        // A signed-in dashboard user has a role, not a type list: it would act on every type.
        return api::ErrorResponse(403, "forbidden",
                                  "this API key is limited to job types; sign in with a user "
                                  "name or a key without a type list");
      }
      const api::Scope scope = key ? key->scope : api::Scope::kNone;
      if (scope == api::Scope::kAdmin) role = Role::kAdmin;
      if (scope == api::Scope::kRead || scope == api::Scope::kEnqueue) role = Role::kRead;
      name = "api key";
    } else {
      const DashboardUser* found = nullptr;
      for (const DashboardUser& u : options_.users) {
        if (u.name == user) found = &u;
      }
      // A name that is not configured still costs one hash (against another user's), so timing
      // does not tell which names exist.
      const DashboardUser* hashed = found                    ? found
                                    : options_.users.empty() ? nullptr
                                                             : &options_.users[0];
      const bool match = hashed && VerifyPassword(password, hashed->password_hash);
      if (found && match) role = found->role;
      name = user;
    }
    if (!role) {
      spdlog::warn("dashboard: failed sign-in{} from {}",
                   api_key.empty() ? " for " + JsonString(user) : " with an API key",
                   client.empty() ? "an unknown address" : client);
      return api::ErrorResponse(401, "unauthorized", "wrong user name, password or API key");
    }
    Session session;
    const std::string token = sessions_.Create(name, *role, &session);
    if (token.empty()) return api::ErrorResponse(500, "internal", "no random token");
    api::HttpResponse r = SessionResponse(&session);
    r.headers.emplace_back("Set-Cookie", CookieHeader(secure, token, false));
    return r;
  }

  // BASE/api/... is /api/... of the HTTP API, run with the session's role as its scope.
  void HandleApi(api::HttpRequest request, std::string path, Respond respond) {
    std::string token;
    std::optional<Session> session = CurrentSession(request, &token);
    if (!session) {
      return respond(api::ErrorResponse(401, "unauthorized",
                                        "sign in first (POST session), or open the dashboard"));
    }
    if (api::IsMutating(request.method) && !CsrfOk(request, *session)) return respond(CsrfError());
    if (path == "/api/events") return respond(EventStream(request, token));
    request.path = std::move(path);
    const api::Scope scope = session->role == Role::kAdmin ? api::Scope::kAdmin : api::Scope::kRead;
    Respond no_store = [respond = std::move(respond)](api::HttpResponse r) {
      r.headers.emplace_back("Cache-Control", "no-store");
      respond(std::move(r));
    };
    api_.HandleAs(std::move(request), scope, std::move(no_store));
  }

  // GET BASE/api/events: the live updates (event_hub.h) as Server-Sent Events.
  api::HttpResponse EventStream(const api::HttpRequest& request, const std::string& token) {
    if (request.method != "GET") return OnlyGet(request);
    if (hub_.Full()) {
      api::HttpResponse r = api::ErrorResponse(
          503, "too_many_streams", "the dashboard serves its maximum of live streams; retry later");
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
    api::HttpResponse r;
    r.content_type = "text/event-stream";
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Accel-Buffering", "no");  // a proxy in front must not buffer it
    r.body = "retry: 2000\n\n";                         // the browser reconnects 2 s after a drop
    r.open_stream = [this, token](std::shared_ptr<api::ResponseStream> stream) {
      hub_.Add(std::make_shared<SessionStream>(std::move(stream), token, sessions_));
    };
    return r;
  }

  // The snapshot the hub sends: GET /api/queues, answered by the API itself.
  void Snapshot(std::function<void(std::string)> deliver) {
    api::HttpRequest request;
    request.method = "GET";
    request.path = "/api/queues";
    api_.HandleAs(std::move(request), api::Scope::kRead,
                  [deliver = std::move(deliver)](api::HttpResponse response) {
                    if (response.status == 200) deliver(std::move(response.body));
                  });
  }

  const DashboardOptions options_;
  const api::ApiKeys keys_;
  const bool login_required_;
  SessionStore sessions_;
  api::ApiService& api_;
  std::string dummy_hash_;  // only on the login thread: the hash an unknown name is checked with
  EventHub hub_;
  LoginThrottle login_throttle_;
  LoginThread login_thread_;  // last: its thread uses the members above
};

DashboardService::DashboardService(DashboardOptions options, api::ApiService& api)
    : impl_(std::make_unique<Impl>(std::move(options), api)) {}
DashboardService::~DashboardService() { impl_->Stop(); }
void DashboardService::Handle(api::HttpRequest request, api::Respond respond) {
  impl_->Handle(std::move(request), std::move(respond));
}
void DashboardService::Stop() { impl_->Stop(); }

}  // namespace taskq::dashboard
