// Base64 (RFC 4648, standard alphabet, with padding): MIME attachments and encoded words, and
// Standard Webhooks secrets and signatures.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace taskq {

// With `wrap`, CRLF between lines of 76 characters (none after the last), as MIME wants.
std::string Base64Encode(std::string_view bytes, bool wrap = false);
// Strict: the standard alphabet with padding; ASCII whitespace (line breaks) is skipped. nullopt
// for anything else.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace taskq
