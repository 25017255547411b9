#include "common/json_span.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace taskq {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && IsSpace(text[pos])) ++pos;
  return pos;
}

// `pos` is at an opening quote; returns the position just past the closing one.
size_t StringEnd(std::string_view text, size_t pos) {
  for (++pos; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;  // the escaped character (\uXXXX's digits need no special care)
    } else if (text[pos] == '"') {
      return pos + 1;
    }
  }
  return text.size();
}

// `pos` is at the first byte of a value; returns the position just past it.
size_t ValueEnd(std::string_view text, size_t pos) {
  if (pos >= text.size()) return text.size();
  const char first = text[pos];
  if (first == '"') return StringEnd(text, pos);
  if (first != '{' && first != '[') {
    // A number or a literal: runs until a delimiter.
    while (pos < text.size() && !IsSpace(text[pos]) && text[pos] != ',' && text[pos] != '}' &&
           text[pos] != ']') {
      ++pos;
    }
    return pos;
  }
  // An object or array: count brackets outside strings (valid JSON nests them properly).
  int depth = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      pos = StringEnd(text, pos);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return pos + 1;
    ++pos;
  }
  return text.size();
}

// Whether the string token `quoted` (quotes included) spells `key`.
bool KeyEquals(std::string_view quoted, std::string_view key) {
  if (quoted.size() < 2) return false;
  const std::string_view raw = quoted.substr(1, quoted.size() - 2);
  if (raw.find('\\') == std::string_view::npos) return raw == key;
  boost::system::error_code ec;
  const boost::json::value decoded = boost::json::parse(quoted, ec);
  return !ec && decoded.is_string() && std::string_view(decoded.get_string()) == key;
}

}  // namespace

namespace {

// Calls visit(quoted key, value text) for each member of the object `object_text`, in order.
template <typename Visit>
void ForEachMember(std::string_view object_text, Visit visit) {
  size_t pos = SkipSpace(object_text, 0);
  if (pos >= object_text.size() || object_text[pos] != '{') return;
  pos = SkipSpace(object_text, pos + 1);
  while (pos < object_text.size() && object_text[pos] == '"') {
    const size_t key_end = StringEnd(object_text, pos);
    const std::string_view quoted = object_text.substr(pos, key_end - pos);
    pos = SkipSpace(object_text, key_end);
    if (pos >= object_text.size() || object_text[pos] != ':') return;
    const size_t value_begin = SkipSpace(object_text, pos + 1);
    const size_t value_end = ValueEnd(object_text, value_begin);
    visit(quoted, object_text.substr(value_begin, value_end - value_begin));
    pos = SkipSpace(object_text, value_end);
    if (pos >= object_text.size() || object_text[pos] != ',') break;
    pos = SkipSpace(object_text, pos + 1);
  }
}

}  // namespace

std::optional<std::string_view> JsonMemberText(std::string_view object_text, std::string_view key) {
  std::optional<std::string_view> found;
  ForEachMember(object_text, [&](std::string_view quoted, std::string_view value) {
    if (KeyEquals(quoted, key)) found = value;
  });
  return found;
}

std::unordered_map<std::string, std::string_view> JsonMemberTexts(std::string_view object_text) {
  std::unordered_map<std::string, std::string_view> members;
  ForEachMember(object_text, [&](std::string_view quoted, std::string_view value) {
    const std::string_view raw = quoted.substr(1, quoted.size() - 2);
    if (raw.find('\\') == std::string_view::npos) {
      members[std::string(raw)] = value;
      return;
    }
    boost::system::error_code ec;
    const boost::json::value decoded = boost::json::parse(quoted, ec);
    if (!ec && decoded.is_string()) members[std::string(decoded.get_string())] = value;
  });
  return members;
}

std::vector<std::string_view> JsonElementTexts(std::string_view array_text) {
  std::vector<std::string_view> elements;
  size_t pos = SkipSpace(array_text, 0);
  if (pos >= array_text.size() || array_text[pos] != '[') return elements;
  pos = SkipSpace(array_text, pos + 1);
  while (pos < array_text.size() && array_text[pos] != ']') {
    const size_t end = ValueEnd(array_text, pos);
    if (end == pos) break;  // not valid JSON: stop rather than loop
    elements.push_back(array_text.substr(pos, end - pos));
    pos = SkipSpace(array_text, end);
    if (pos >= array_text.size() || array_text[pos] != ',') break;
    pos = SkipSpace(array_text, pos + 1);
  }
  return elements;
}

std::string JsonWithoutWhitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      const size_t end = StringEnd(text, pos);
      out.append(text.substr(pos, end - pos));
      pos = end;
    } else {
      if (!IsSpace(c)) out.push_back(c);
      ++pos;
    }
  }
  return out;
}

}  // namespace taskq
