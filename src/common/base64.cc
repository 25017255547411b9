#include "common/base64.h"

#include <array>
#include <cstdint>

namespace taskq {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string Base64Encode(std::string_view bytes, bool wrap) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4 * 78 / 76);
  size_t line = 0;
  auto put = [&](char c) {
    if (wrap && line == 76) {
      out.append("\r\n");
      line = 0;
    }
    out.push_back(c);
    ++line;
  };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                       uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    put(kBase64Alphabet[(n >> 18) & 63]);
    put(kBase64Alphabet[(n >> 12) & 63]);
    put(kBase64Alphabet[(n >> 6) & 63]);
    put(kBase64Alphabet[n & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) n |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    put(kBase64Alphabet[(n >> 18) & 63]);
    put(kBase64Alphabet[(n >> 12) & 63]);
    put(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
    put('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::array<int8_t, 256> value;
  value.fill(-1);
  for (size_t i = 0; i < kBase64Alphabet.size(); ++i) {
    value[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t group = 0;
  int filled = 0;   // characters in the current group of four
  int padding = 0;  // '=' seen; only more padding or whitespace may follow
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      if (filled < 2) return std::nullopt;
      ++padding;
      if (filled + padding > 4) return std::nullopt;
      continue;
    }
    const int8_t v = value[static_cast<unsigned char>(c)];
    if (v < 0 || padding > 0) return std::nullopt;
    group = (group << 6) | static_cast<uint32_t>(v);
    if (++filled == 4) {
      out.push_back(static_cast<char>((group >> 16) & 0xFF));
      out.push_back(static_cast<char>((group >> 8) & 0xFF));
      out.push_back(static_cast<char>(group & 0xFF));
      group = 0;
      filled = 0;
    }
  }
  if (filled == 0) return padding == 0 ? std::optional(std::move(out)) : std::nullopt;
  if (filled + padding != 4) return std::nullopt;
  group <<= 6 * (4 - filled);
  out.push_back(static_cast<char>((group >> 16) & 0xFF));
  if (filled == 3) out.push_back(static_cast<char>((group >> 8) & 0xFF));
  return out;
}

}  // namespace taskq
