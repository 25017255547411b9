#include "common/rate_text.h"

#include <array>
#include <charconv>
#include <utility>

namespace taskq {
namespace {

// Largest first, so that FormatRate picks the largest unit that divides the window.
constexpr std::array<std::pair<std::string_view, int64_t>, 4> kUnits = {
    {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}}};

bool ParseWhole(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<RateLimit> ParseRate(std::string_view text, std::string_view field) {
  const std::string name(field);
  const std::string rule =
      "must look like 100/1s: a count per window, the window in ms, s, m or h (at most 24h)";
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return InvalidArgument(name, rule);
  RateLimit rate;
  if (!ParseWhole(text.substr(0, slash), &rate.max) || rate.max < 1 || rate.max > kMaxRateLimit) {
    return InvalidArgument(name, "the count must be a whole number from 1 to 1000000000");
  }
  std::string_view window = text.substr(slash + 1);
  size_t digits = window.find_first_not_of("0123456789");
  if (digits == std::string_view::npos) return InvalidArgument(name, rule);
  int64_t amount = 1;
  if (digits > 0 && !ParseWhole(window.substr(0, digits), &amount)) {
    return InvalidArgument(name, rule);
  }
  std::string_view unit = window.substr(digits);
  for (const auto& [suffix, ms] : kUnits) {
    if (unit != suffix) continue;
    if (amount < 1 || amount > kMaxRateWindow.count() / ms) return InvalidArgument(name, rule);
    rate.window = std::chrono::milliseconds(amount * ms);
    return rate;
  }
  return InvalidArgument(name, rule);
}

std::string FormatRate(const RateLimit& rate) {
  const int64_t window = rate.window.count();
  for (const auto& [suffix, ms] : kUnits) {
    if (window % ms == 0) {
      return std::to_string(rate.max) + "/" + std::to_string(window / ms) + std::string(suffix);
    }
  }
  return std::to_string(rate.max) + "/" + std::to_string(window) + "ms";  // window < 1 (unused)
}

}  // namespace taskq
