#include "api/query.h"

#include <charconv>

#include "common/percent_encoding.h"

namespace taskq::api {

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (FormDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : FormDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

Result<int64_t> QueryInt(std::string_view query, std::string_view name, int64_t fallback,
                         int64_t min, int64_t max) {
  auto text = QueryParam(query, name);
  if (!text) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return InvalidArgument(std::string(name), "must be an integer in [" + std::to_string(min) +
                                                  ", " + std::to_string(max) + "]");
  }
  return value;
}

std::string ReplaceQueryParam(std::string_view query, std::string_view name,
                              std::string_view value) {
  std::string out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::string_view key = part.substr(0, part.find('='));
    if (part.empty() || key == name) continue;
    out.append(part);
    out += '&';
  }
  out.append(name);
  out += '=';
  out.append(value);
  return out;
}

}  // namespace taskq::api
