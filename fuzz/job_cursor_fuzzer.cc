// Paging cursors (`cursor` of GET /api/queues/{queue}/jobs, `taskq jobs --cursor`): what decodes
// encodes back to text that decodes to the same cursor, and a key's text stays URL-safe.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "taskq/job_cursor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cursor = taskq::JobCursor::Decode(taskq::fuzz::AsText(data, size));
  if (!cursor.ok()) {
    TASKQ_FUZZ_CHECK(cursor.status().field() == "cursor");
    return 0;
  }
  TASKQ_FUZZ_CHECK(cursor->offset >= 0);
  const std::string text = cursor->Encode();
  TASKQ_FUZZ_CHECK(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789-_") == std::string::npos);
  auto again = taskq::JobCursor::Decode(text);
  TASKQ_FUZZ_CHECK(again.ok());
  TASKQ_FUZZ_CHECK(again->offset == cursor->offset);
  TASKQ_FUZZ_CHECK(again->after_score == cursor->after_score);
  TASKQ_FUZZ_CHECK(again->after_id == cursor->after_id);
  return 0;
}
