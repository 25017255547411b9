// The one error shape of the HTTP API, and the one mapping from Status to HTTP status:
//   {"error": {"code": "invalid_field", "message": "...", "field": "data.to"}}
#pragma once

#include <string>
#include <string_view>

#include "api/http_message.h"
#include "taskq/status.h"

namespace taskq::api {

// `field` is left out of the body when empty.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view field = {});

// The HTTP status and error code a Status is answered with.
struct ErrorKind {
  int http_status;
  std::string_view code;
};
ErrorKind ErrorKindOf(StatusCode code);

// kInvalidArgument 422 invalid_field, kNotFound 404 not_found, kAlreadyExists 409 conflict,
// kFailedPrecondition 409 conflict, kResourceExhausted 413 too_large, kUnavailable 503 with
// Retry-After, kDeadlineExceeded 504 timeout, anything else 500 internal.
HttpResponse StatusResponse(const Status& status);

}  // namespace taskq::api
