#include "handlers/http_target.h"

#include <algorithm>
#include <mutex>
#include <optional>

namespace taskq::handlers {
namespace {

std::optional<std::string> GetPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return std::nullopt;
  std::string out(value);
  curl_free(value);
  return out;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

void InitCurlOnce() {
  static std::once_flag initialised;
  std::call_once(initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool Append(CurlSlist& list, const std::string& line) {
  curl_slist* next = curl_slist_append(list.get(), line.c_str());
  if (next == nullptr) return false;
  list.release();  // now the head of `next`
  list.reset(next);
  return true;
}

bool HttpTarget::SameOrigin(const HttpTarget& other) const {
  return scheme == other.scheme && EqualsIgnoringAsciiCase(host, other.host) && port == other.port;
}

bool HttpTarget::DowngradesTo(const HttpTarget& next) const {
  return scheme == "https" && next.scheme != "https";
}

Result<HttpTarget> ParseHttpTarget(std::string_view text, const HttpTarget* base,
                                   const std::string& field) {
  if (text.size() > kMaxUrlBytes) {
    return InvalidArgument(field, "is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  }
  if (!std::all_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7f;
      })) {
    return InvalidArgument(field,
                           "must be ASCII without spaces or control characters (percent-encode "
                           "others; write international host names in their xn-- form)");
  }
  HttpTarget target;
  target.handle.reset(base != nullptr ? curl_url_dup(base->handle.get()) : curl_url());
  if (!target.handle) return Internal("out of memory");
  const std::string copy(text);
  // Without CURLU_GUESS_SCHEME or CURLU_NON_SUPPORT_SCHEME: a scheme is required and must be one
  // this libcurl speaks; http and https alone are then let through below.
  const CURLUcode rc = curl_url_set(target.handle.get(), CURLUPART_URL, copy.c_str(), 0);
  if (rc != CURLUE_OK) {
    return InvalidArgument(field,
                           std::string("is not a valid URL (") + curl_url_strerror(rc) + ")");
  }
  std::optional<std::string> scheme = GetPart(target.handle.get(), CURLUPART_SCHEME);
  if (!scheme || (*scheme != "http" && *scheme != "https")) {
    return InvalidArgument(field, "must be an http:// or https:// URL");
  }
  if (GetPart(target.handle.get(), CURLUPART_USER) ||
      GetPart(target.handle.get(), CURLUPART_PASSWORD)) {
    return InvalidArgument(field,
                           "must not hold credentials (user:password@); send an Authorization "
                           "header instead");
  }
  if (GetPart(target.handle.get(), CURLUPART_ZONEID)) {
    return InvalidArgument(field, "must not hold an IPv6 zone id");
  }
  std::optional<std::string> host = GetPart(target.handle.get(), CURLUPART_HOST);
  std::optional<std::string> port =
      GetPart(target.handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  std::optional<std::string> normalised = GetPart(target.handle.get(), CURLUPART_URL);
  if (!host || host->empty() || !port || !normalised) {
    return InvalidArgument(field, "must name a host");
  }
  target.scheme = std::move(*scheme);
  target.host = std::move(*host);
  target.port = std::move(*port);
  target.text = std::move(*normalised);
  return target;
}

Status CheckPort(const HttpTarget& target, const std::vector<int>& allowed,
                 const std::string& field, const std::string& flag) {
  if (allowed.empty()) return Status::Ok();
  std::string list;
  for (int port : allowed) {
    if (std::to_string(port) == target.port) return Status::Ok();
    list += (list.empty() ? "" : ", ") + std::to_string(port);
  }
  return InvalidArgument(
      field, "port " + target.port + " is not allowed (allowed: " + list + "; " + flag + ")");
}

Status ValidatePorts(const std::vector<int>& ports, const std::string& option) {
  for (int port : ports) {
    if (port < 1 || port > 65535) {
      return InvalidArgument(option, "a port is 1 to 65535, not " + std::to_string(port));
    }
  }
  return Status::Ok();
}

CURLcode PinToCheckedAddress(CURL* curl, const HttpTarget& target, const IpAddress& address,
                             CurlSlist& connect_to) {
  // Empty host and port match every request of this handle: the connection goes to the checked
  // address, while the URL's host still names the server for Host, SNI and the certificate.
  const std::string literal = address.is_v4 ? address.ToString() : "[" + address.ToString() + "]";
  connect_to.reset();
  if (!Append(connect_to, "::" + literal + ":" + target.port)) return CURLE_OUT_OF_MEMORY;
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(curl, option, value);
  };
  set(CURLOPT_CURLU, target.handle.get());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  // A proxy from the environment (http_proxy, ...) would connect on our behalf to an address
  // nobody checked, and CONNECT_TO would pin the proxy instead of the server.
  set(CURLOPT_PROXY, "");
  set(CURLOPT_CONNECT_TO, connect_to.get());
  set(CURLOPT_NOSIGNAL, 1L);  // handler threads: no SIGALRM-based DNS timeouts
  return rc;
}

}  // namespace taskq::handlers
