// Building small JSON texts without a JSON library: the worker's hot path only needs to quote
// strings (error messages) and splice numbers.
#pragma once

#include <string>
#include <string_view>

namespace taskq {

// Appends `text` as a JSON string literal (quotes included), escaping per RFC 8259.
void AppendJsonString(std::string* out, std::string_view text);
std::string JsonString(std::string_view text);

}  // namespace taskq
