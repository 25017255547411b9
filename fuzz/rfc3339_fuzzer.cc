// RFC 3339 date-times (run_at, query ranges): what parses must format and parse back to the same
// millisecond.
#include <cstdint>

#include "common/rfc3339.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<int64_t> ms = taskq::ParseRfc3339Ms(taskq::fuzz::AsText(data, size));
  if (!ms) return 0;
  const std::string formatted = taskq::FormatRfc3339Ms(*ms);
  std::optional<int64_t> again = taskq::ParseRfc3339Ms(formatted);
  TASKQ_FUZZ_CHECK(again.has_value());
  TASKQ_FUZZ_CHECK(*again == *ms);
  return 0;
}
