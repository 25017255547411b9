#include "handlers/webhook.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "handlers/address_guard.h"
#include "handlers/data_fields.h"
#include "handlers/http_target.h"
#include "handlers/mime_message.h"
#include "handlers/webhook_data.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

// What a failure message quotes of the response body: enough to see the receiver's complaint,
// little enough for a job's error field.
constexpr size_t kMaxMessageBodyBytes = 1024;
// Response headers copied into the result, and how much of each value.
constexpr size_t kMaxResultHeaderBytes = 1024;
constexpr int kMaxRedirectsLimit = 20;

// Response headers worth keeping in the result. Others (Set-Cookie above all) may hold secrets of
// the receiver and would be stored in Redis and shown on the dashboard.
constexpr std::string_view kResultHeaders[] = {
    "content-type", "content-length", "date",       "etag",         "last-modified",
    "location",     "retry-after",    "request-id", "x-request-id", "x-correlation-id",
};

// The only header of the job's own that a redirect carries to another origin: it describes the
// body, which goes along. Every other one (Authorization, Cookie, X-Api-Key, ...) may be a
// credential of the first receiver.
constexpr std::string_view kHeadersForAnyOrigin[] = {"content-type"};

// Replaces each invalid UTF-8 sequence with U+FFFD, so any response body can be a JSON string.
// With `cut`, the body was truncated and an incomplete sequence at its end is dropped instead.
std::string ValidUtf8(std::string_view bytes, bool cut) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    size_t length = 0;
    uint32_t min = 0;
    if (b0 < 0x80) {
      out.push_back(static_cast<char>(b0));
      ++i;
      continue;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
      min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      length = 3;
      min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      length = 4;
      min = 0x10000;
    }
    bool valid = length > 0 && i + length <= bytes.size();
    uint32_t code = length > 0 ? b0 & (0x7F >> length) : 0;
    size_t continuation = 1;
    for (; length > 0 && continuation < length && i + continuation < bytes.size(); ++continuation) {
      const auto b = static_cast<unsigned char>(bytes[i + continuation]);
      if ((b & 0xC0) != 0x80) {
        valid = false;
        break;
      }
      code = (code << 6) | (b & 0x3F);
    }
    if (valid && (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))) {
      valid = false;
    }
    if (valid) {
      out.append(bytes.substr(i, length));
      i += length;
    } else if (cut && length > 0 && i + continuation >= bytes.size()) {
      break;  // the start of a character that the truncation cut off
    } else {
      out.append(kReplacement);
      i += std::max<size_t>(1, continuation);
    }
  }
  return out;
}

// The signing key: "whsec_" secrets are base64 (Standard Webhooks), anything else is used as is.
Result<std::string> DecodeSecret(const std::string& secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (!secret.starts_with(kPrefix)) return secret;
  std::optional<std::string> key = Base64Decode(std::string_view(secret).substr(kPrefix.size()));
  if (!key || key->empty()) {
    return InvalidArgument("secret", "a whsec_ secret must be followed by base64 (with padding)");
  }
  return *std::move(key);
}

// "v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>" (Standard Webhooks).
Result<std::string> Sign(const std::string& key, std::string_view id, int64_t timestamp,
                         std::string_view body) {
  std::string signed_content;
  signed_content.reserve(id.size() + body.size() + 24);
  signed_content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(),
           mac, &mac_length) == nullptr) {
    return Internal("HMAC-SHA256 failed");
  }
  return "v1," + Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), mac_length));
}

// ----------------------------------------------------------------------------------------------
// One HTTP exchange

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, in order
  std::string body;
  bool truncated = false;
  size_t max_body = 0;

  const std::string* Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

// Called once per header line, the status line included. An interim response (100 Continue) is
// followed by the real one, whose headers replace it.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || response->headers.size() >= 200) return size * count;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  response->headers.emplace_back(Lower(line.substr(0, colon)), std::string(value));
  return size * count;
}

// Keeps at most max_body bytes; one byte more aborts the transfer (CURLE_WRITE_ERROR), so a huge
// answer costs neither memory nor the time to download it.
size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  const size_t n = size * count;
  const size_t room = response->max_body - response->body.size();
  if (n > room) {
    response->body.append(data, room);
    response->truncated = true;
    return 0;
  }
  response->body.append(data, n);
  return n;
}

int AbortWhenStopped(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<JobContext*>(user)->stop_requested() ? 1 : 0;
}

struct Request {
  const HttpTarget* target = nullptr;
  const IpAddress* address = nullptr;  // connect here, whatever the host name resolves to now
  std::string method;
  const std::optional<std::string>* body = nullptr;
  std::vector<std::string> header_lines;
  std::chrono::milliseconds timeout{0};
};

struct Exchange {
  CURLcode code = CURLE_OK;
  std::string error;  // libcurl's message when code is not OK
  Response response;
};

Exchange Perform(const Request& request, const WebhookOptions& options, JobContext& ctx) {
  Exchange out;
  out.response.max_body = options.max_response_bytes;
  CurlEasy curl(curl_easy_init());
  if (!curl) {
    out.code = CURLE_OUT_OF_MEMORY;
    out.error = "curl_easy_init failed";
    return out;
  }
  CurlSlist headers;
  bool appended = true;
  for (const std::string& line : request.header_lines) appended = appended && Append(headers, line);
  if (!appended) {
    out.code = CURLE_OUT_OF_MEMORY;
    out.error = "out of memory";
    return out;
  }

  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  CurlSlist connect_to;
  // Redirects are followed by the caller, hop by hop, each target checked like the first.
  CURLcode rc = PinToCheckedAddress(c, *request.target, *request.address, connect_to);
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(c, option, value);
  };
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
  set(CURLOPT_USERAGENT, options.user_agent.c_str());
  set(CURLOPT_HTTPHEADER, headers.get());
  if (request.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    // POST, PUT and PATCH always carry a body (maybe empty, "Content-Length: 0"); DELETE only
    // when the job gives one.
    if (request.body->has_value() || request.method != "DELETE") {
      // Never a null pointer: with one, libcurl would read the body from its read callback, which
      // defaults to stdin.
      const char* body = request.body->has_value() ? (*request.body)->c_str() : "";
      const size_t size = request.body->has_value() ? (*request.body)->size() : 0;
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
      set(CURLOPT_POSTFIELDS, body);
    }
  }
  set(CURLOPT_HEADERFUNCTION, &OnHeader);
  set(CURLOPT_HEADERDATA, &out.response);
  set(CURLOPT_WRITEFUNCTION, &OnBody);
  set(CURLOPT_WRITEDATA, &out.response);
  set(CURLOPT_NOPROGRESS, 0L);
  set(CURLOPT_XFERINFOFUNCTION, &AbortWhenStopped);
  set(CURLOPT_XFERINFODATA, static_cast<void*>(&ctx));
  if (rc != CURLE_OK) {
    out.code = rc;
    out.error = curl_easy_strerror(rc);
    return out;
  }
  out.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.response.status);
  if (out.code != CURLE_OK)
    out.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(out.code);
  return out;
}

// ----------------------------------------------------------------------------------------------
// Running a job

// Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). nullopt when it is neither.
std::optional<std::chrono::milliseconds> ParseRetryAfter(const std::string& value) {
  if (!value.empty() &&
      std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    // Past int64 seconds is far past the 30 days the worker accepts anyway.
    if (ec == std::errc::result_out_of_range) seconds = int64_t{1} << 40;
    return std::chrono::seconds(std::min<int64_t>(seconds, int64_t{1} << 40));
  }
  // libcurl reads all three HTTP date formats (IMF-fixdate, RFC 850, asctime).
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const auto delay =
      std::chrono::system_clock::from_time_t(when) - std::chrono::system_clock::now();
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay));
}

std::string Quote(std::string_view body) {
  const bool cut = body.size() > kMaxMessageBodyBytes;
  std::string text = ValidUtf8(body.substr(0, kMaxMessageBodyBytes), cut);
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  return text + (cut ? "..." : "");
}

// "webhook: POST https://x/y answered 400: {"error":"..."}"
std::string AnsweredMessage(const std::string& method, const HttpTarget& target,
                            const Response& r) {
  std::string message =
      "webhook: " + method + " " + target.text + " answered " + std::to_string(r.status);
  if (!r.body.empty()) message += ": " + Quote(r.body);
  return message;
}

std::string ResultJson(const Response& r, std::chrono::milliseconds duration) {
  json::object headers;
  for (const auto& [name, value] : r.headers) {
    if (!Contains(kResultHeaders, name) || headers.contains(name)) continue;
    const bool cut = value.size() > kMaxResultHeaderBytes;
    headers[name] = ValidUtf8(std::string_view(value).substr(0, kMaxResultHeaderBytes), cut);
  }
  json::object result;
  result["status"] = r.status;
  result["headers"] = std::move(headers);
  result["body"] = ValidUtf8(r.body, r.truncated);
  result["truncated"] = r.truncated;
  result["duration_ms"] = duration.count();
  return json::serialize(result);
}

HandlerResult TransportFailure(const std::string& method, const HttpTarget& target,
                               const Exchange& exchange, std::chrono::milliseconds timeout) {
  const std::string prefix = "webhook: " + method + " " + target.text + ": ";
  switch (exchange.code) {
    case CURLE_OPERATION_TIMEDOUT:
      return HandlerResult::Retry(prefix + "no answer within " + std::to_string(timeout.count()) +
                                  " ms (" + exchange.error + ")");
    case CURLE_ABORTED_BY_CALLBACK:
      return HandlerResult::Retry(prefix + "stopped");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return HandlerResult::Fail(prefix + exchange.error);
    default:
      // Refused or reset connections, TLS failures, a receiver that closed without answering:
      // all may pass.
      return HandlerResult::Retry(prefix + exchange.error);
  }
}

struct Webhook {
  WebhookOptions options;
  std::optional<AddressGuard> guard;  // unset: the options are invalid
  std::string key;                    // the decoded secret; empty: unsigned
  Status config;                      // why the options are invalid
};

HandlerResult RunWebhookJob(const Webhook& webhook, JobContext& ctx) {
  if (!webhook.config.ok()) {
    return HandlerResult::Fail("webhook: configuration error: " + webhook.config.ToString());
  }
  const WebhookOptions& options = webhook.options;
  Result<WebhookData> data = ParseWebhookData(ctx.data_json(), options);
  if (!data.ok()) return HandlerResult::Fail("webhook: " + data.status().ToString());
  if (!IsSafeHeaderValue(ctx.id())) {
    return HandlerResult::Fail("webhook: the job id cannot be sent as a header");
  }
  Result<HttpTarget> first = ParseHttpTarget(data->url, nullptr, "data.url");
  if (!first.ok()) return HandlerResult::Fail("webhook: " + first.status().ToString());

  const auto start = std::chrono::steady_clock::now();
  const std::chrono::milliseconds timeout = data->timeout.value_or(options.default_timeout);
  // The whole job, redirects included, gets one timeout, and never outlives the attempt.
  const auto deadline =
      std::min<std::chrono::steady_clock::time_point>(start + timeout, ctx.deadline());
  const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start);
  // One timestamp for every hop: the signature covers the job, not the connection.
  const int64_t timestamp = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();

  HttpTarget target = std::move(*first);
  std::string method = data->method;
  std::optional<std::string> body = std::move(data->body);
  std::vector<std::pair<std::string, std::string>> headers = std::move(data->headers);
  for (int hop = 0;; ++hop) {
    if (ctx.stop_requested()) return HandlerResult::Retry("webhook: stopped");
    if (Status port = CheckPort(target, options.allowed_ports, "data.url", "--webhook-ports");
        !port.ok()) {
      return HandlerResult::Fail(
          "webhook: " + (hop == 0 ? "data.url: " : "redirect to " + target.text + ": ") +
          "refused: " + port.message());
    }
    Result<IpAddress> address = webhook.guard->Resolve(target.host);
    if (!address.ok()) {
      const std::string where = hop == 0 ? "data.url: " : "redirect to " + target.text + ": ";
      if (address.status().code() == StatusCode::kInvalidArgument) {
        return HandlerResult::Fail("webhook: " + where + "refused: " + address.status().message());
      }
      return HandlerResult::Retry("webhook: " + where + address.status().message());
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      return HandlerResult::Retry("webhook: " + method + " " + target.text + ": no answer within " +
                                  std::to_string(budget.count()) + " ms");
    }

    Request request;
    request.target = &target;
    request.address = &*address;
    request.method = method;
    request.body = &body;
    request.timeout = remaining;
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
      // libcurl drops a header given as "Name:"; "Name;" sends it with an empty value.
      request.header_lines.push_back(value.empty() ? name + ";" : name + ": " + value);
      has_content_type = has_content_type || Lower(name) == "content-type";
    }
    if (!has_content_type) {
      // Without a body, "Content-Type:" removes the form type libcurl would add to a POST.
      request.header_lines.push_back(body ? "Content-Type: " + data->body_content_type
                                          : "Content-Type:");
    }
    request.header_lines.push_back("Expect:");  // no 100-continue round trip for large bodies
    // The trace the job belongs to goes on to the receiver (W3C Trace Context), unless the job
    // set its own.
    if (!ctx.trace_parent().empty() &&
        std::none_of(headers.begin(), headers.end(),
                     [](const auto& h) { return Lower(h.first) == "traceparent"; })) {
      request.header_lines.push_back("traceparent: " + ctx.trace_parent());
    }
    if (!webhook.key.empty()) {
      Result<std::string> signature = Sign(webhook.key, ctx.id(), timestamp, body.value_or(""));
      if (!signature.ok()) return HandlerResult::Retry("webhook: " + signature.status().ToString());
      request.header_lines.push_back("webhook-id: " + ctx.id());
      request.header_lines.push_back("webhook-timestamp: " + std::to_string(timestamp));
      request.header_lines.push_back("webhook-signature: " + *signature);
    }

    Exchange exchange = Perform(request, options, ctx);
    const Response& response = exchange.response;
    const bool answered =
        exchange.code == CURLE_OK || (exchange.code == CURLE_WRITE_ERROR && response.truncated);
    if (!answered) return TransportFailure(method, target, exchange, budget);
    const auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    ctx.Log("webhook " + method + " " + target.text + " via " + address->ToString() + ": " +
            std::to_string(response.status));

    const long status = response.status;
    if (status >= 200 && status < 300) {
      return HandlerResult::Success(ResultJson(response, duration));
    }
    if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
      const std::string message = AnsweredMessage(method, target, response);
      if (const std::string* retry_after = response.Header("retry-after")) {
        if (std::optional<std::chrono::milliseconds> after = ParseRetryAfter(*retry_after)) {
          // 429 with a time to come back is the receiver pacing us, not a failed delivery: it
          // must not use up the attempts. Without a time it could be anything: retried.
          if (status == 429) return HandlerResult::RateLimited(*after, message);
          return HandlerResult::RetryAfter(message, *after);
        }
      }
      return HandlerResult::Retry(message);
    }
    const bool redirect =
        status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!redirect) return HandlerResult::Fail(AnsweredMessage(method, target, response));

    const std::string* location = response.Header("location");
    if (location == nullptr || location->empty()) {
      return HandlerResult::Fail(AnsweredMessage(method, target, response) +
                                 " (a redirect without Location)");
    }
    if (hop >= options.max_redirects) {
      return HandlerResult::Fail(
          "webhook: " + method + " " + target.text + " answered " + std::to_string(status) +
          " redirecting to " + Quote(*location) +
          (options.max_redirects == 0
               ? "; redirects are not followed (--webhook-max-redirects)"
               : "; more than " + std::to_string(options.max_redirects) + " redirects"));
    }
    Result<HttpTarget> next = ParseHttpTarget(*location, &target, "Location");
    if (!next.ok()) {
      return HandlerResult::Fail("webhook: " + target.text + " redirected to " + Quote(*location) +
                                 ": " + next.status().message());
    }
    // As browsers and libcurl do: 303 turns any method but GET into GET, and 301/302 turn a POST
    // into one; 307 and 308 repeat the request as it was.
    if ((status == 303 && method != "GET") ||
        ((status == 301 || status == 302) && method == "POST")) {
      method = "GET";
      body.reset();
    }
    if (target.DowngradesTo(*next)) {
      return HandlerResult::Fail("webhook: " + target.text + " redirected to " + Quote(*location) +
                                 ": a redirect from https to http is not followed");
    }
    if (!next->SameOrigin(target)) {
      std::erase_if(headers,
                    [](const auto& h) { return !Contains(kHeadersForAnyOrigin, Lower(h.first)); });
    }
    target = std::move(*next);
  }
}

}  // namespace

Status ValidateWebhookOptions(const WebhookOptions& options) {
  if (Result<AddressGuard> guard = AddressGuard::Create(options.allow_cidrs); !guard.ok()) {
    return InvalidArgument("allow_cidrs", guard.status().message());
  }
  TASKQ_RETURN_IF_ERROR(ValidatePorts(options.allowed_ports, "allowed_ports"));
  if (Result<std::string> key = DecodeSecret(options.secret); !key.ok()) return key.status();
  if (options.max_redirects < 0 || options.max_redirects > kMaxRedirectsLimit) {
    return InvalidArgument("max_redirects",
                           "must be from 0 to " + std::to_string(kMaxRedirectsLimit));
  }
  if (options.max_timeout.count() < 1 || options.default_timeout.count() < 1 ||
      options.default_timeout > options.max_timeout) {
    return InvalidArgument("default_timeout", "must be positive and at most max_timeout");
  }
  if (options.max_response_bytes < 1 || options.max_body_bytes < 1) {
    return InvalidArgument("max_response_bytes", "limits must be at least 1 byte");
  }
  if (!IsSafeHeaderValue(options.user_agent)) {
    return InvalidArgument("user_agent", "must not contain control characters");
  }
  return Status::Ok();
}

Status ValidateWebhookData(std::string_view data_json) {
  return ParseWebhookData(data_json, WebhookOptions{}).status();
}

Handler MakeWebhookHandler(WebhookOptions options) {
  InitCurlOnce();
  auto webhook = std::make_shared<Webhook>();
  webhook->config = ValidateWebhookOptions(options);
  if (webhook->config.ok()) {
    webhook->guard = *AddressGuard::Create(options.allow_cidrs);
    webhook->key = *DecodeSecret(options.secret);
  }
  webhook->options = std::move(options);
  // Shared, not copied per call: std::function copies the lambda, and the state is immutable.
  return [webhook = std::shared_ptr<const Webhook>(std::move(webhook))](JobContext& ctx) {
    return RunWebhookJob(*webhook, ctx);
  };
}

}  // namespace taskq::handlers
