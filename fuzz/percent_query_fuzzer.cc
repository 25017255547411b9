// Percent-decoding (paths, forms), hex, and query strings as routes read them.
#include <cstdint>
#include <span>

#include "api/query.h"
#include "common/percent_encoding.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = taskq::fuzz::AsText(data, size);
  if (auto decoded = taskq::PercentDecode(text, /*reject_nul=*/true)) {
    TASKQ_FUZZ_CHECK(decoded->find('\0') == std::string::npos);
    TASKQ_FUZZ_CHECK(decoded->size() <= text.size());
  }
  if (auto decoded = taskq::PercentDecode(text, /*reject_nul=*/false)) {
    TASKQ_FUZZ_CHECK(decoded->size() <= text.size());
  }
  TASKQ_FUZZ_CHECK(taskq::FormDecode(text).size() <= text.size());
  if (auto bytes = taskq::HexDecode(text)) {
    const std::span<const unsigned char> span(reinterpret_cast<const unsigned char*>(bytes->data()),
                                              bytes->size());
    TASKQ_FUZZ_CHECK(taskq::HexEncode(span).size() == text.size());
  }
  for (const char* name : {"state", "limit", "q", "from"}) {
    if (auto value = taskq::api::QueryParam(text, name)) TASKQ_FUZZ_CHECK(value->size() <= size);
    auto n = taskq::api::QueryInt(text, name, 7, -5, 500);
    if (n.ok()) TASKQ_FUZZ_CHECK(*n >= -5 && *n <= 500);
  }
  return 0;
}
