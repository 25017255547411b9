#include "bin/flag_listing.h"

#include "common/url_password.h"

namespace taskq::bin {

void FlagListing::Add(std::string section, std::string key, std::function<std::string()> value,
                      bool secret) {
  listed_.push_back({std::move(section), std::move(key), std::move(value), secret});
}

std::vector<ConfigEntry> FlagListing::Entries() const {
  std::vector<ConfigEntry> entries;
  for (const Listed& flag : listed_) {
    entries.push_back({flag.section, flag.key, flag.value(), flag.secret});
  }
  return entries;
}

std::string TomlValue(const std::string& value, Shown shown) {
  if (shown == Shown::kUrl) return TomlString(MaskUrlPassword(value));
  if (shown == Shown::kLiteral) return TomlLiteral(value);
  return TomlString(value);
}

std::string TomlValue(const std::vector<std::string>& values, Shown shown) {
  std::string out = "[";
  for (const std::string& value : values) {
    out += (out.size() > 1 ? ", " : "") + TomlValue(value, shown);
  }
  return out + "]";
}

}  // namespace taskq::bin
