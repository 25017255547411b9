// Sizes a handler controls, bounded so that Redis memory stays bounded and no single value can
// make a round trip fail (and so be resent for ever). The processor applies them to every
// handler's output; a handler process applies the same ones before sending (handler_host.cc), so
// that what crosses its socket is bounded too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace taskq::worker {

inline constexpr size_t kMaxResultBytes = 1 << 20;
inline constexpr size_t kMaxProgressBytes = 64 << 10;
inline constexpr size_t kMaxLogLineBytes = 4 << 10;
// The longest delay a handler's answer can ask for (RetryAfter, RateLimited).
inline constexpr int64_t kMaxHandlerDelayMs = int64_t{30} * 24 * 3600 * 1000;

inline void TruncateLogLine(std::string* line) {
  if (line->size() > kMaxLogLineBytes) {
    line->resize(kMaxLogLineBytes);
    *line += " [truncated]";
  }
}

// The failure of a successful attempt whose result is over kMaxResultBytes.
inline std::string ResultTooLargeText(size_t result_bytes) {
  return "result is " + std::to_string(result_bytes) + " bytes; the limit is " +
         std::to_string(kMaxResultBytes);
}

}  // namespace taskq::worker
