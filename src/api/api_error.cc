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

ErrorKind ErrorKindOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
    case StatusCode::kInternal:
      break;
    case StatusCode::kInvalidArgument:
      return {422, "invalid_field"};
    case StatusCode::kNotFound:
      return {404, "not_found"};
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kStaleToken:
      return {409, "conflict"};
    case StatusCode::kResourceExhausted:
      return {413, "too_large"};
    case StatusCode::kQueueFull:
      return {429, "queue_full"};
    case StatusCode::kUnavailable:
      return {503, "unavailable"};
    case StatusCode::kDeadlineExceeded:
      return {504, "timeout"};
  }
  return {500, "internal"};
}

HttpResponse StatusResponse(const Status& status) {
  if (status.ok()) return ErrorResponse(500, "internal", "an OK status was rendered as an error");
  const ErrorKind kind = ErrorKindOf(status.code());
  switch (status.code()) {
    case StatusCode::kUnavailable: {
      HttpResponse r = ErrorResponse(kind.http_status, kind.code, status.message());
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case StatusCode::kQueueFull: {
      HttpResponse r = ErrorResponse(kind.http_status, kind.code, status.message(), status.field());
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
      return ErrorResponse(kind.http_status, kind.code, status.message());
    default:
      return ErrorResponse(kind.http_status, kind.code, status.message(), status.field());
  }
}

}  // namespace taskq::api
