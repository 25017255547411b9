// User-supplied http(s) URLs for the handlers that fetch or call them (webhook, image-resize URL
// sources): parsed by libcurl itself, so that what is checked is exactly what is requested, and a
// libcurl handle pinned to the address the SSRF guard (handlers/address_guard.h) checked.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/address_guard.h"
#include "taskq/status.h"

namespace taskq::handlers {

// Sets up libcurl's global state, once per process; every handler that uses libcurl calls it
// before its first transfer, from the thread that builds the handler.
void InitCurlOnce();

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// Appends a copy of `line`; false when out of memory (the list is then unchanged).
bool Append(CurlSlist& list, const std::string& line);

// URLs longer than this are refused: no legitimate receiver or image needs more.
inline constexpr size_t kMaxUrlBytes = 8192;

struct HttpTarget {
  CurlUrl handle;    // handed to libcurl (CURLOPT_CURLU), so it requests exactly this
  std::string text;  // normalised, for messages and as the base of a relative Location
  std::string scheme, host, port;  // host as in the URL: a name, "1.2.3.4" or "[::1]"

  bool SameOrigin(const HttpTarget& other) const;
  // True when going from this target to `next` leaves TLS (https to http): a redirect must not
  // take a request, its headers or its body there.
  bool DowngradesTo(const HttpTarget& next) const;
};

// `text` is absolute, or relative to `base` (a redirect's Location). Only http and https, without
// credentials or an IPv6 zone id. Errors are kInvalidArgument with `field`, and are always the
// producer's (or the redirecting server's) mistake.
Result<HttpTarget> ParseHttpTarget(std::string_view text, const HttpTarget* base,
                                   const std::string& field);

// The ports user-supplied URLs may use unless configured otherwise: web servers'. A URL may
// otherwise point a worker at any TCP service a host offers (SMTP, Redis, a database).
inline const std::vector<int> kDefaultAllowedPorts = {80, 443};

// kInvalidArgument naming `field` when `target`'s port (the scheme's default if the URL names
// none) is not in `allowed`; an empty `allowed` allows every port. `flag` is the option that
// widens the list, for the message.
Status CheckPort(const HttpTarget& target, const std::vector<int>& allowed,
                 const std::string& field, const std::string& flag);
// Every entry 1..65535; errors name `option`.
Status ValidatePorts(const std::vector<int>& ports, const std::string& option);

// Makes `curl` request exactly `target` over http or https, connecting to `address` (the one the
// guard checked) whatever the host name resolves to now, without a proxy and without following
// redirects (a caller that follows them checks each hop). libcurl reads `connect_to` during the
// transfer: keep it alive until then.
CURLcode PinToCheckedAddress(CURL* curl, const HttpTarget& target, const IpAddress& address,
                             CurlSlist& connect_to);

}  // namespace taskq::handlers
