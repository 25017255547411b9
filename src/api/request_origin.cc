#include "api/request_origin.h"

namespace taskq::api {

bool IsLoopbackHost(std::string_view host) {
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    return close != std::string_view::npos && host.substr(1, close - 1) == "::1";
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

bool CrossSiteRequest(const HttpRequest& request) {
  const std::string_view site = request.Header("sec-fetch-site");
  if (!site.empty() && site != "same-origin" && site != "none") return true;
  std::string_view origin = request.Header("origin");
  if (origin.empty()) return false;
  // "scheme://host[:port]"; "null" (sandboxed pages, some redirects) is another site too.
  const size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return true;
  origin.remove_prefix(scheme + 3);
  return origin != request.Header("host");
}

bool IsMutating(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace taskq::api
