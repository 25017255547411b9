#include "bin/json_log_formatter.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

#include "common/json_text.h"

namespace taskq::bin {

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto since_epoch = duration_cast<milliseconds>(msg.time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char time_text[40];
  const size_t length = std::strftime(time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string line = "{\"time\":\"";
  line.append(time_text, length);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(since_epoch.count() % 1000));
  line += millis;
  line += "\",\"level\":";
  const auto level = spdlog::level::to_string_view(msg.level);
  AppendJsonString(&line, std::string_view(level.data(), level.size()));
  line += ",\"pid\":" + std::to_string(::getpid()) + ",\"message\":";
  AppendJsonString(&line, std::string_view(msg.payload.data(), msg.payload.size()));
  line += "}\n";
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace taskq::bin
