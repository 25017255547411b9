// Secret fields of job data (a webhook's headers may hold a receiver's credentials): what a caller
// without the admin scope sees of them, and which filters would reveal them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace taskq::api {

// What every redacted value becomes.
inline constexpr std::string_view kRedacted = "[redacted]";

// Top-level data fields that hold secrets, by job type (JobTypeInfo::secret_fields).
using SecretFields = std::map<std::string, std::vector<std::string>>;

// `data_json` (a JSON object) with the value of each of `fields` replaced by kRedacted; a field
// whose value is an object keeps its member names and has each member's value replaced, so a
// reader still sees which headers were set. Every other field keeps its text byte for byte.
// Text that is not a JSON object gives "{}": nothing secret may slip through unparsed.
std::string RedactData(std::string_view data_json, const std::vector<std::string>& fields);

// True when a job filter on the data path starting with `first_segment` could match on a secret
// field of `type` (or of any type, when `type` is empty): the match itself would reveal it.
bool FiltersOnSecret(const SecretFields& secrets, const std::string& type,
                     std::string_view first_segment);

}  // namespace taskq::api
