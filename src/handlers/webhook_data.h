// The data of a `webhook` job, checked and read (docs/job-types.md): what the worker sends and
// the API validates at enqueue time, and the header rules both share. Private to src/handlers/.
#pragma once

#include <algorithm>
#include <chrono>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "handlers/webhook.h"
#include "taskq/status.h"

namespace taskq::handlers {

struct WebhookData {
  std::string url;
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;  // as given
  std::optional<std::string> body;                           // the bytes sent and signed
  std::string body_content_type;                             // unless headers name one
  std::optional<std::chrono::milliseconds> timeout;
};

// Every field checked against the limits and `options` (body size, timeout); the URL's address
// is only checked when the job runs. Errors name the field ("data.headers.X-Foo").
Result<WebhookData> ParseWebhookData(std::string_view data_json, const WebhookOptions& options);

// ASCII lower case, as header names are compared.
inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

template <size_t N>
inline bool Contains(const std::string_view (&list)[N], std::string_view value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

// Header values may hold tabs and any byte from 0x20 up except DEL; CR, LF and NUL would let a
// value start a header of its own.
inline bool IsSafeHeaderValue(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte >= 0x20 && byte != 0x7f) || byte == '\t';
  });
}

}  // namespace taskq::handlers
