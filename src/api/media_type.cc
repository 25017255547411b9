#include "api/media_type.h"

#include <string>

#include "api/api_error.h"

namespace taskq::api {

namespace {

// Whether `text` starts (at_end: ends) with the lowercase `part`, in any case. Every request with
// a body asks, so it compares in place rather than lowering a copy.
bool HasPart(std::string_view text, std::string_view part, bool at_end) {
  if (text.size() < part.size()) return false;
  const std::string_view piece = at_end ? text.substr(text.size() - part.size()) : text;
  for (size_t i = 0; i < part.size(); ++i) {
    const char c = piece[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != part[i]) return false;
  }
  return true;
}

}  // namespace

bool IsJsonMediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  constexpr std::string_view kJson = "application/json", kApplication = "application/";
  return (type.size() == kJson.size() && HasPart(type, kJson, false)) ||
         (type.size() >= kApplication.size() + 5 && HasPart(type, kApplication, false) &&
          HasPart(type, "+json", true));
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
