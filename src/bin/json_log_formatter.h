// --log-format json: each log line one JSON object, for log collectors that parse JSON:
//   {"time":"2026-12-06T23:59:01.123Z","level":"info","pid":4242,"message":"..."}
// The message is escaped as any JSON string (json_text.h), so a line never breaks in two.
#pragma once

#include <spdlog/formatter.h>

#include <memory>

namespace taskq::bin {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace taskq::bin
