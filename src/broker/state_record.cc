#include "broker/state_record.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace taskq::broker {
namespace {

bool AllOf(std::string_view text, bool (*allowed)(char)) {
  return std::all_of(text.begin(), text.end(), allowed);
}
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || IsLetter(c); }

// Digits only (at least one), with an optional leading '-' when `sign`.
std::optional<int64_t> Number(std::string_view text, bool sign) {
  std::string_view digits = text;
  if (sign && !digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || !AllOf(digits, IsDigit)) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<StateRecord> ParseStateRecord(std::string_view text) {
  std::array<std::string_view, 8> parts;
  size_t start = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const size_t colon = text.find(':', start);
    if ((colon == std::string_view::npos) != (i == parts.size() - 1)) return std::nullopt;
    parts[i] = text.substr(start, colon == std::string_view::npos ? colon : colon - start);
    start = colon + 1;
  }
  const auto attempts = Number(parts[1], false), stalls = Number(parts[2], false),
             started = Number(parts[3], false), finished = Number(parts[4], false),
             priority = Number(parts[5], true);
  if (!AllOf(parts[0], IsLetter) || !attempts || !stalls || !started || !finished || !priority ||
      !AllOf(parts[6], IsAlnum) || (parts[7] != "0" && parts[7] != "1")) {
    return std::nullopt;
  }
  return StateRecord{std::string(parts[0]), *attempts,      *stalls, *started, *finished, *priority,
                     std::string(parts[6]), parts[7] == "1"};
}

std::string EncodeStateRecord(const StateRecord& r) {
  return r.state + ':' + std::to_string(r.attempts) + ':' + std::to_string(r.stalls) + ':' +
         std::to_string(r.started_ms) + ':' + std::to_string(r.finished_ms) + ':' +
         std::to_string(r.priority) + ':' + r.token + ':' + (r.cancel_requested ? "1" : "0");
}

}  // namespace taskq::broker
