#include "api/request_origin.h"

#include <cctype>
#include <string>

#include "common/text_list.h"

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

bool IsAllowedHost(std::string_view host, const std::vector<std::string>& allowed) {
  if (IsLoopbackHost(host)) return true;
  std::string_view name = host;
  if (name.starts_with('[')) {
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    name = name.substr(1, close - 1);
  } else {
    name = name.substr(0, name.find(':'));
  }
  if (name.empty()) return false;
  const auto same = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i]))) {
        return false;
      }
    }
    return true;
  };
  for (const std::string& entry : allowed) {
    std::string_view want = entry;
    if (want.starts_with('[') && want.ends_with(']')) want = want.substr(1, want.size() - 2);
    if (same(name, want)) return true;
  }
  return false;
}

namespace {

// "host[:port]" in lower case, without the scheme's default port.
std::string Authority(std::string_view text, std::string_view scheme) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string_view default_port = scheme == "https" ? ":443" : ":80";
  if (out.ends_with(default_port)) out.resize(out.size() - default_port.size());
  return out;
}

}  // namespace

bool RequestOverHttps(const HttpRequest& request) {
  return StartsWithIgnoringCase(request.Header("x-forwarded-proto"), "https") ||
         StartsWithIgnoringCase(request.Header("origin"), "https://");
}

bool CrossSiteRequest(const HttpRequest& request) {
  // Browsers that send Fetch Metadata say it themselves; that holds behind a proxy that rewrites
  // Host, where comparing Origin with Host would refuse the page's own requests.
  const std::string_view site = request.Header("sec-fetch-site");
  if (!site.empty()) return site != "same-origin" && site != "none";
  std::string_view origin = request.Header("origin");
  if (origin.empty()) return false;
  // "scheme://host[:port]"; "null" (sandboxed pages, some redirects) is another site too.
  const size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return true;
  const std::string_view scheme = origin.substr(0, scheme_end);
  return Authority(origin.substr(scheme_end + 3), scheme) !=
         Authority(request.Header("host"), scheme);
}

bool IsMutating(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace taskq::api
