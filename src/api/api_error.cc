#include "api/api_error.h"

#include "common/json_text.h"

namespace taskq::api {

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view field) {
  HttpResponse response;
  response.status = status;
  std::string& body = response.body;
  body.reserve(64 + message.size() + field.size());
  body += "{\"error\":{\"code\":";
  AppendJsonString(&body, code);
  body += ",\"message\":";
  AppendJsonString(&body, message);
  if (!field.empty()) {
    body += ",\"field\":";
    AppendJsonString(&body, field);
  }
  body += "}}";
  return response;
}

HttpResponse StatusResponse(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return ErrorResponse(500, "internal", "an OK status was rendered as an error");
    case StatusCode::kInvalidArgument:
      return ErrorResponse(422, "invalid_field", status.message(), status.field());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", status.message(), status.field());
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kStaleToken:
      return ErrorResponse(409, "conflict", status.message(), status.field());
    case StatusCode::kResourceExhausted:
      return ErrorResponse(413, "too_large", status.message(), status.field());
    case StatusCode::kUnavailable: {
      HttpResponse r = ErrorResponse(503, "unavailable", status.message());
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case StatusCode::kDeadlineExceeded:
      return ErrorResponse(504, "timeout", status.message());
    case StatusCode::kInternal:
      break;
  }
  return ErrorResponse(500, "internal", status.message());
}

}  // namespace taskq::api
