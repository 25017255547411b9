#include "dashboard/dashboard_service.h"

#include "api/api_error.h"

namespace taskq::dashboard {
namespace {

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

void DashboardService::Handle(api::HttpRequest request, api::Respond respond) const {
  if (request.method != "GET" && request.method != "HEAD") {
    api::HttpResponse r = api::ErrorResponse(405, "method_not_allowed", "only GET is served here");
    r.headers.emplace_back("Allow", "GET");
    return respond(std::move(r));
  }
  if (request.path == "/") {
    api::HttpResponse r;
    r.status = 302;
    r.content_type.clear();
    r.headers.emplace_back("Location", options_.base_path);
    return respond(std::move(r));
  }
  if (request.path != options_.base_path && request.path != options_.base_path + "/") {
    return respond(api::ErrorResponse(404, "not_found", "no page at " + request.path));
  }
  api::HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Content-Security-Policy", "default-src 'self'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  const std::string api = HtmlEscape(options_.api_url);
  r.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>taskq</title>"
      "</head><body><h1>taskq</h1><p>The dashboard is not built yet. The HTTP API is at "
      "<a href=\"" +
      api + "/api/queues\">" + api +
      "/api/queues</a> (OpenAPI document: <a "
      "href=\"" +
      api + "/api/openapi.json\">" + api +
      "/api/openapi.json</a>).</p></body>"
      "</html>";
  respond(std::move(r));
}

}  // namespace taskq::dashboard
