// Where values lie in a JSON text that a parser has already accepted, so that a value can be
// passed on exactly as its producer wrote it: a parsed and re-serialised number is not the same
// text (1.5 becomes 1.5E0, a 30-digit integer loses digits).
//
// Every function here assumes valid JSON (checked first by a real parser) and never reads past
// the text's end even when it is not.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace taskq {

// The text of the value of member `key` of the JSON object `object_text` (surrounding whitespace
// excluded), or nullopt when the object has no such member. A key written with escapes
// ("d\u0061ta") matches its unescaped form. With a name given twice, the last one counts, as in
// the parsers that read the rest of the object.
std::optional<std::string_view> JsonMemberText(std::string_view object_text, std::string_view key);

// The text of every member of the JSON object `object_text` by its (unescaped) name, in one pass;
// with a name given twice, the last one counts, as in JsonMemberText.
std::unordered_map<std::string, std::string_view> JsonMemberTexts(std::string_view object_text);

// The texts of the elements of the JSON array `array_text`, in order.
std::vector<std::string_view> JsonElementTexts(std::string_view array_text);

// `text` without the whitespace between its tokens; every token (strings, numbers, literals) is
// copied byte for byte.
std::string JsonWithoutWhitespace(std::string_view text);

}  // namespace taskq
