// Secret fields of job data, redacted for readers without the admin scope: whatever the stored
// data, the result is a JSON object in which every secret field's value is "[redacted]" (or an
// object of the same member names whose values all are), and every other field is unchanged.
// Input: the secret field names, comma-separated, on the first line; the data after it.
#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "api/data_redaction.h"
#include "common/text_list.h"
#include "fuzz_check.h"

namespace json = boost::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = taskq::fuzz::AsText(data, size);
  const size_t split = text.find('\n');
  std::vector<std::string> fields;
  for (std::string_view f : taskq::SplitList(text.substr(0, split))) fields.emplace_back(f);
  const std::string_view data_json = split == std::string_view::npos ? "" : text.substr(split + 1);

  const std::string redacted = taskq::api::RedactData(data_json, fields);
  boost::system::error_code ec;
  const json::value out = json::parse(redacted, ec);
  TASKQ_FUZZ_CHECK(!ec && out.is_object());
  const json::value in = json::parse(data_json, ec);
  if (ec || !in.is_object()) {
    TASKQ_FUZZ_CHECK(redacted == "{}");
    return 0;
  }
  const json::object& before = in.as_object();
  const json::object& after = out.as_object();
  TASKQ_FUZZ_CHECK(before.size() == after.size());
  const json::string mark(taskq::api::kRedacted);
  for (const auto& member : before) {
    const json::value* now = after.if_contains(member.key());
    TASKQ_FUZZ_CHECK(now != nullptr);
    const bool secret =
        std::find(fields.begin(), fields.end(), std::string(member.key())) != fields.end();
    if (!secret) {
      TASKQ_FUZZ_CHECK(*now == member.value());
    } else if (member.value().is_object()) {
      TASKQ_FUZZ_CHECK(now->is_object() &&
                       now->as_object().size() == member.value().as_object().size());
      for (const auto& inner : now->as_object()) TASKQ_FUZZ_CHECK(inner.value() == mark);
    } else {
      TASKQ_FUZZ_CHECK(*now == mark);
    }
  }
  return 0;
}
