// Unique keys derived from a job's type and data: always 64 lowercase hex digits, and different
// for a different split of the same bytes between type and data.
#include <cstdint>

#include "common/unique_key.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = taskq::fuzz::AsText(data, size);
  const size_t split = text.find('\n');
  const std::string_view type = text.substr(0, split);
  const std::string_view data_json = split == std::string_view::npos ? "" : text.substr(split + 1);
  auto key = taskq::DeriveUniqueKey(type, data_json);
  TASKQ_FUZZ_CHECK(key.ok());
  TASKQ_FUZZ_CHECK(key->size() == 64);
  for (char c : *key) TASKQ_FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!type.empty() && type.find('\0') == std::string_view::npos) {
    const std::string shifted_type(type.substr(0, type.size() - 1));
    const std::string shifted_data =
        std::string(type.substr(type.size() - 1)) + std::string(data_json);
    auto other = taskq::DeriveUniqueKey(shifted_type, shifted_data);
    TASKQ_FUZZ_CHECK(other.ok() && *other != *key);
  }
  for (const char* mode : {"until_completed", "ttl", "debounce"}) {
    auto parsed = taskq::ParseUniqueMode(mode);
    TASKQ_FUZZ_CHECK(parsed && taskq::UniqueModeName(*parsed) == mode);
  }
  (void)taskq::ParseUniqueMode(type);
  return 0;
}
