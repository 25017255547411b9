#include "api/media_type.h"

#include <string>

#include "api/api_error.h"

namespace taskq::api {

bool IsJsonMediaType(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  const size_t start = type.find_first_not_of(" \t");
  type = start == std::string::npos ? std::string() : type.substr(start);
  for (char& c : type) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return type == "application/json" ||
         (type.starts_with("application/") && type.ends_with("+json"));
}

std::optional<HttpResponse> UnsupportedMediaType(const HttpRequest& request) {
  const std::string_view content_type = request.Header("content-type");
  if (request.body.empty() || content_type.empty() || IsJsonMediaType(content_type)) {
    return std::nullopt;
  }
  // curl -d sends application/x-www-form-urlencoded unless told otherwise: say what to send.
  HttpResponse r =
      ErrorResponse(415, "unsupported_media_type",
                    "the body must be JSON sent as Content-Type: application/json, not " +
                        std::string(content_type.substr(0, 100)) +
                        " (with curl: -H 'Content-Type: application/json')",
                    "Content-Type");
  r.headers.emplace_back("Accept-Post", "application/json");
  return r;
}

}  // namespace taskq::api
