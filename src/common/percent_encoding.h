// Hex digits and %XX escapes, for URLs (Redis URLs, request paths, query strings) and hex digests.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace taskq {

// 0..15 for [0-9a-fA-F], else -1.
int HexDigitValue(char c);
// Lower-case hex digits of `bytes`, two per byte (digests, tokens).
std::string HexEncode(std::span<const unsigned char> bytes);
// The bytes of an even-length hex string; nullopt when it is not one.
std::optional<std::string> HexDecode(std::string_view hex);
// Decodes %XX escapes strictly: nullopt on a malformed escape, and on %00 or a raw NUL byte
// when reject_nul.
std::optional<std::string> PercentDecode(std::string_view in, bool reject_nul);
// `in` with every byte but the unreserved ones of RFC 3986 ([A-Za-z0-9-._~]) written as %XX:
// safe in any part of a URL, and PercentDecode gives `in` back.
std::string PercentEncode(std::string_view in);
// The query-string form: '+' is a space, and a malformed escape is kept as it is.
std::string FormDecode(std::string_view in);

}  // namespace taskq
