#include "api/data_redaction.h"

#include <algorithm>
#include <boost/json.hpp>
#include <unordered_map>

#include "common/json_span.h"

namespace taskq::api {

namespace json = boost::json;

std::string RedactData(std::string_view data_json, const std::vector<std::string>& fields) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(data_json, ec);
  if (ec || !parsed.is_object()) return "{}";
  // Rebuilt member by member: a field that is not secret keeps its text byte for byte (a parsed
  // and re-serialised number is not the same text), a secret one is written anew.
  const std::unordered_map<std::string, std::string_view> texts = JsonMemberTexts(data_json);
  std::string out = "{";
  for (const auto& member : parsed.as_object()) {
    if (out.size() > 1) out += ',';
    out += json::serialize(json::string(member.key()));
    out += ':';
    const bool secret = std::find(fields.begin(), fields.end(), member.key()) != fields.end();
    if (!secret) {
      auto text = texts.find(std::string(member.key()));
      out += text != texts.end() ? std::string(text->second) : json::serialize(member.value());
    } else if (member.value().is_object()) {
      json::object names;
      for (const auto& inner : member.value().as_object()) names[inner.key()] = kRedacted;
      out += json::serialize(names);
    } else {
      out += json::serialize(json::string(kRedacted));
    }
  }
  return out + '}';
}

bool FiltersOnSecret(const SecretFields& secrets, const std::string& type,
                     std::string_view first_segment) {
  for (const auto& [secret_type, fields] : secrets) {
    if (!type.empty() && secret_type != type) continue;
    if (std::find(fields.begin(), fields.end(), first_segment) != fields.end()) return true;
  }
  return false;
}

}  // namespace taskq::api
