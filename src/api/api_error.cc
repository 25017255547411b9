#include "api/api_error.h"

#include <cctype>

#include "common/json_text.h"

namespace taskq::api {

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view field, const std::vector<FieldError>& more_fields) {
  HttpResponse response;
  response.status = status;
  response.content_type = kProblemContentType;
  std::string& body = response.body;
  body.reserve(160 + 2 * (message.size() + field.size()));
  body += "{\"type\":";
  AppendJsonString(&body, std::string(kProblemTypePrefix) + std::string(code));
  // The title is the code in words: "invalid_field" -> "Invalid field".
  std::string title(code);
  for (char& c : title) c = c == '_' ? ' ' : c;
  if (!title.empty())
    title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
  body += ",\"title\":";
  AppendJsonString(&body, title);
  body += ",\"status\":" + std::to_string(status) + ",\"detail\":";
  AppendJsonString(&body, message);
  body += ",\"code\":";
  AppendJsonString(&body, code);
  if (!field.empty()) {
    body += ",\"field\":";
    AppendJsonString(&body, field);
    if (code == "invalid_field") {
      // Every invalid field found, the one above first.
      body += ",\"errors\":[{\"field\":";
      AppendJsonString(&body, field);
      body += ",\"detail\":";
      AppendJsonString(&body, message);
      body += '}';
      for (const FieldError& e : more_fields) {
        body += ",{\"field\":";
        AppendJsonString(&body, e.field);
        body += ",\"detail\":";
        AppendJsonString(&body, e.message);
        body += '}';
      }
      body += ']';
    }
  }
  body += '}';
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
      return ErrorResponse(kind.http_status, kind.code, status.message(), status.field(),
                           status.more_fields());
  }
}

}  // namespace taskq::api
