// The text of a fencing token as Redis holds it: base 36 (0-9 then a-z, no leading zeros). A token
// is Redis' clock in microseconds or more (claim.lua), 16 decimal digits; every active job's state
// record carries it and claim writes it for every job, so the shorter text (10 characters) is
// cheaper on the hot path. Scripts only compare token texts for equality.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskq::broker {

// The base-36 text of a token >= 0.
std::string TokenText(int64_t token);
// The token a base-36 text names; nullopt for an empty text, another character, or a value past
// int64.
std::optional<int64_t> ParseTokenText(std::string_view text);

}  // namespace taskq::broker
