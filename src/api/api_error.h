// The one error shape of the HTTP API, RFC 9457 problem details (application/problem+json), with
// the taskq code, the first invalid field and, for invalid_field, every invalid field found:
//   {"type": "urn:taskq:problem:invalid_field", "title": "Invalid field", "status": 422,
//    "detail": "is required", "code": "invalid_field", "field": "type",
//    "errors": [{"field": "type", "detail": "is required"}, ...]}
// and the one mapping from Status to HTTP status.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"
#include "taskq/status.h"

namespace taskq::api {

inline constexpr std::string_view kProblemContentType = "application/problem+json";
// A problem's type is this and its code: a URI that names the kind of error (it is not fetched).
inline constexpr std::string_view kProblemTypePrefix = "urn:taskq:problem:";

// `field` is left out of the body when empty; `errors` lists it and `more_fields` (invalid_field
// only).
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view field = {},
                           const std::vector<FieldError>& more_fields = {});

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
