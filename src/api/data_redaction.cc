#include "api/data_redaction.h"

#include <algorithm>
#include <boost/json.hpp>

namespace taskq::api {

namespace json = boost::json;

std::string RedactData(std::string_view data_json, const std::vector<std::string>& fields) {
  boost::system::error_code ec;
  json::value parsed = json::parse(data_json, ec);
  if (ec || !parsed.is_object()) return "{}";
  json::object& data = parsed.as_object();
  for (const std::string& field : fields) {
    auto it = data.find(field);
    if (it == data.end()) continue;
    if (it->value().is_object()) {
      for (auto& member : it->value().as_object()) member.value() = json::string(kRedacted);
    } else {
      it->value() = json::string(kRedacted);
    }
  }
  return json::serialize(parsed);
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
