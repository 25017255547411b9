#include "handlers/webhook_data.h"

#include <boost/json.hpp>
#include <cstdint>

#include "common/field_errors.h"
#include "handlers/data_fields.h"
#include "handlers/http_target.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

// Limits on what a job's producer controls (the URL's own in handlers/http_target.h).
constexpr size_t kMaxHeaders = 50;
constexpr size_t kMaxHeaderNameBytes = 256;
constexpr size_t kMaxHeaderValueBytes = 8192;

// Request headers a job may not set: hop-by-hop headers and framing belong to the HTTP client
// (a wrong Content-Length or Transfer-Encoding desynchronises the connection), Host must match the
// checked URL, and the signature headers must come from the worker's secret.
constexpr std::string_view kReservedHeaders[] = {
    // hop by hop (RFC 9110 7.6.1)
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
    // framing and routing, owned by libcurl
    "host", "content-length", "expect",
    // the signature, owned by the worker's secret
    "webhook-id", "webhook-timestamp", "webhook-signature"};

constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

// RFC 9110 token characters.
bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

Status ParseHeader(const std::string& name, const json::value& value, WebhookData* out) {
  // The name is quoted in errors only once it is known to be printable.
  const std::string field = "data.headers." + (IsToken(name) ? name : "?");
  if (!IsToken(name) || name.size() > kMaxHeaderNameBytes) {
    return InvalidArgument(field,
                           "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)");
  }
  if (Contains(kReservedHeaders, Lower(name))) {
    return InvalidArgument(field, "is set by the worker and may not be given");
  }
  const json::string* s = value.if_string();
  if (s == nullptr) return InvalidArgument(field, "must be a string");
  if (s->size() > kMaxHeaderValueBytes) {
    return InvalidArgument(field,
                           "is longer than " + std::to_string(kMaxHeaderValueBytes) + " bytes");
  }
  if (!IsSafeHeaderValue(TextOf(*s))) {
    return InvalidArgument(field, "must not contain CR, LF or other control characters");
  }
  out->headers.emplace_back(name, std::string(TextOf(*s)));
  return Status::Ok();
}

// Names every invalid header.
Status ParseHeaders(const json::value& value, WebhookData* out) {
  const json::object* headers = value.if_object();
  if (headers == nullptr) {
    return InvalidArgument("data.headers", "must be an object of header names to string values");
  }
  if (headers->size() > kMaxHeaders) {
    return InvalidArgument("data.headers",
                           "has more than " + std::to_string(kMaxHeaders) + " headers");
  }
  FieldErrors errors;
  for (const auto& entry : *headers) {
    const std::string name(entry.key().data(), entry.key().size());
    errors.Check(ParseHeader(name, entry.value(), out));
  }
  return std::move(errors).ToStatus();
}

}  // namespace

Result<WebhookData> ParseWebhookData(std::string_view data_json, const WebhookOptions& options) {
  Result<json::value> root = ParseDataObject(data_json);
  if (!root.ok()) return root.status();
  const json::object* data = &root->get_object();
  // Every invalid field is named, not only the first (docs/http-api.md, "Errors").
  FieldErrors errors;
  errors.Check(
      RejectUnknownKeys(*data, {"url", "method", "headers", "body", "timeout_ms"}, "data"));
  WebhookData out;

  // ParseHttpTarget holds the URL to its own length limit.
  Result<std::string> url = RequiredString(*data, "url", "data.url", SIZE_MAX);
  if (errors.Check(url.status())) {
    out.url = std::move(*url);
    errors.Check(ParseHttpTarget(out.url, nullptr, "data.url").status());
  }

  // An invalid method leaves POST, so that the body is checked as for a method that takes one.
  if (const json::value* method = data->if_contains("method"); method && !method->is_null()) {
    const json::string* s = method->if_string();
    if (s == nullptr || !Contains(kMethods, TextOf(*s))) {
      errors.Add(InvalidArgument("data.method", "must be one of GET, POST, PUT, PATCH, DELETE"));
    } else {
      out.method = std::string(TextOf(*s));
    }
  }

  if (const json::value* headers = data->if_contains("headers"); headers && !headers->is_null()) {
    errors.Check(ParseHeaders(*headers, &out));
  }

  // null counts as absent, as for every other field: no body.
  if (const json::value* body = data->if_contains("body"); body && !body->is_null()) {
    if (out.method == "GET") {
      errors.Add(InvalidArgument("data.body", "is not allowed with method GET"));
    } else {
      if (const json::string* text = body->if_string()) {
        out.body = std::string(TextOf(*text));
        out.body_content_type = "text/plain; charset=utf-8";
      } else {
        out.body = json::serialize(*body);
        out.body_content_type = "application/json";
      }
      if (out.body->size() > options.max_body_bytes) {
        errors.Add(InvalidArgument(
            "data.body",
            "is longer than " + std::to_string(options.max_body_bytes) + " bytes as sent"));
      }
    }
  }

  Result<std::optional<int64_t>> timeout =
      OptionalInteger(*data, "timeout_ms", "data.timeout_ms", 1, options.max_timeout.count());
  if (errors.Check(timeout.status()) && timeout->has_value()) {
    out.timeout = std::chrono::milliseconds(**timeout);
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return out;
}

}  // namespace taskq::handlers
