#include "api/beast_request.h"

#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "common/percent_encoding.h"

namespace taskq::api {

std::optional<HttpRequest> HeadFromBeastRequest(
    const boost::beast::http::request<boost::beast::http::string_body>& request) {
  HttpRequest out;
  out.method = std::string(request.method_string());
  const std::string_view target = request.target();
  const size_t q = target.find('?');
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  std::optional<std::string> path = PercentDecode(target.substr(0, q), /*reject_nul=*/true);
  if (!path) return std::nullopt;
  out.path = std::move(*path);
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  return out;
}

std::optional<HttpRequest> FromBeastRequest(
    boost::beast::http::request<boost::beast::http::string_body>& request) {
  std::optional<HttpRequest> out = HeadFromBeastRequest(request);
  if (out) out->body = std::move(request.body());
  return out;
}

}  // namespace taskq::api
