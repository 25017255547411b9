// The built-in `webhook` job type: one HTTP(S) request through libcurl, signed per the Standard
// Webhooks spec when a secret is configured, to a URL whose address passes the SSRF guard
// (handlers/address_guard.h). Data fields, results and errors are documented in docs/job-types.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/http_target.h"
#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

struct WebhookOptions {
  // Signs every request when set: raw bytes, or "whsec_<base64>" (decoded first, as Standard
  // Webhooks secrets are written).
  std::string secret;
  // CIDRs the SSRF guard lets through although they are loopback, private, link-local, ...;
  // e.g. {"10.20.0.0/16"} for an internal receiver.
  std::vector<std::string> allow_cidrs;
  // Ports a webhook URL (and each redirect) may use; empty: any.
  std::vector<int> allowed_ports = kDefaultAllowedPorts;
  // Redirects followed, each hop checked like the first URL. 0: a 3xx answer fails the job.
  int max_redirects = 0;
  std::chrono::milliseconds default_timeout{10000};  // when the data names no timeout_ms
  std::chrono::milliseconds max_timeout{60000};      // the largest timeout_ms accepted
  size_t max_response_bytes = 64 << 10;  // response body kept in the result; the rest is not read
  size_t max_body_bytes = 1 << 20;       // request body, as sent
  std::string user_agent = "taskq-webhook/0.1";
};

// Checks options once at startup, so a bad secret or CIDR stops the worker instead of failing
// every job. Errors name the option ("allow_cidrs", "secret", ...).
Status ValidateWebhookOptions(const WebhookOptions& options);

// Checks a job's data without any network access (no DNS: the address is only checked when the
// job runs, against the worker's allowlist). Errors name the field: "data.url",
// "data.headers.X-Foo", ... (Status with StatusCode::kInvalidArgument and field()). Limits are
// those of a default WebhookOptions.
Status ValidateWebhookData(std::string_view data_json);

// The handler validates the data again when it runs. It blocks for the HTTP exchange, so it must
// run on a handler thread (not run_inline). Safe to call from several threads at once. With
// invalid options (see ValidateWebhookOptions) every job fails with a configuration error.
Handler MakeWebhookHandler(WebhookOptions options);

}  // namespace taskq::handlers
