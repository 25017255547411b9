// JobFilter (taskq/inspector.h): which jobs Inspector::Scan keeps.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/job_codec.h"
#include "taskq/inspector.h"

namespace taskq {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// ASCII case-insensitive: error messages are free text, and folding bytes >= 0x80 one by one
// would not be Unicode case folding anyway.
bool ContainsIgnoringCase(std::string_view text, std::string_view part) {
  if (part.size() > text.size()) return false;
  for (size_t i = 0; i + part.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < part.size() && Lower(text[i + j]) == Lower(part[j])) ++j;
    if (j == part.size()) return true;
  }
  return false;
}

bool FieldMatches(const std::string& data_json, const std::vector<std::string>& path,
                  const std::string& value) {
  boost::system::error_code ec;
  boost::json::value data = boost::json::parse(data_json, ec);
  if (ec) return false;
  const boost::json::value* at = &data;
  for (const std::string& segment : path) {
    const boost::json::object* object = at->if_object();
    if (!object) return false;
    at = object->if_contains(segment);
    if (!at) return false;
  }
  if (const boost::json::string* s = at->if_string()) return *s == value;
  return boost::json::serialize(*at) == value;
}

}  // namespace

bool JobFilter::Matches(const Job& job) const {
  if (!type.empty() && job.type != type) return false;
  if (!error.empty() &&
      (job.errors.empty() || !ContainsIgnoringCase(job.errors.front().message, error))) {
    return false;
  }
  return field.empty() || FieldMatches(job.data_json, field, value);
}

Status JobFilter::Validate() const {
  if (!type.empty()) TASKQ_RETURN_IF_ERROR(ValidateName("type", type));
  if (error.size() > kMaxTextBytes) {
    return InvalidArgument("error", "must be at most 256 bytes");
  }
  if (value.size() > kMaxTextBytes) {
    return InvalidArgument("value", "must be at most 256 bytes");
  }
  if (field.size() > kMaxPathSegments) {
    return InvalidArgument("field", "must have at most 8 segments");
  }
  for (const std::string& segment : field) {
    if (segment.empty()) return InvalidArgument("field", "must not have an empty segment");
    if (segment.size() > kMaxTextBytes) {
      return InvalidArgument("field", "must be at most 256 bytes");
    }
  }
  return Status::Ok();
}

}  // namespace taskq
