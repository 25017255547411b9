// Where a request comes from, as far as the headers tell: defences for listeners that take no
// credentials (the API without keys, the dashboard without login) against other sites' pages in
// the operator's browser, and against DNS rebinding (a site whose name resolves to 127.0.0.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"

namespace taskq::api {

// True for a Host header naming the loopback interface: localhost, 127.x.y.z or [::1], with or
// without a port. A rebinding attack arrives with the attacker's own name here.
bool IsLoopbackHost(std::string_view host_header);

// True for a loopback Host (as above) or one naming an entry of `allowed`: host names or IP
// addresses, compared without case and without the port (IPv6 without brackets).
bool IsAllowedHost(std::string_view host_header, const std::vector<std::string>& allowed);

// True when a browser says the request comes from another site's page: Sec-Fetch-Site is present
// and neither same-origin nor none (typed in, bookmarks); or, without it (older browsers), Origin
// names another host than Host (case and the scheme's default port aside). Clients that are not
// browsers send neither header and pass.
bool CrossSiteRequest(const HttpRequest& request);

// True when the page is HTTPS although taskq speaks plain HTTP behind a TLS-terminating proxy:
// the proxy says so (X-Forwarded-Proto: https), or the browser's Origin is https://. Cookies set
// then are Secure, so they never travel over plain HTTP. A client that claims HTTPS falsely only
// gets a cookie it will not send back over HTTP.
bool RequestOverHttps(const HttpRequest& request);

// Methods that change something: all but GET, HEAD and OPTIONS.
bool IsMutating(std::string_view method);

}  // namespace taskq::api
