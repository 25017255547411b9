// MIME messages built from job data (the email type): whatever the data, an accepted message
// must be safe to put on an SMTP connection: CRLF line ends only, no bare CR or LF, no line
// over 998 bytes, and no recipient outside the ones the data names.
#include <cstdint>

#include "fuzz_check.h"
#include "handlers/email.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  taskq::handlers::EmailOptions options;  // no attachments directory: content attachments only
  options.max_attachment_bytes = 64 << 10;
  auto built = taskq::handlers::BuildEmail(taskq::fuzz::AsText(data, size), "job:1/é", options);
  if (!built.ok()) {
    TASKQ_FUZZ_CHECK(built.status().code() == taskq::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string& mime = built->mime;
  size_t line_start = 0;
  for (size_t i = 0; i < mime.size(); ++i) {
    if (mime[i] == '\r') {
      TASKQ_FUZZ_CHECK(i + 1 < mime.size() && mime[i + 1] == '\n');
      TASKQ_FUZZ_CHECK(i - line_start <= 998);
      line_start = i + 2;
      ++i;
    } else {
      TASKQ_FUZZ_CHECK(mime[i] != '\n');
    }
  }
  TASKQ_FUZZ_CHECK(!built->recipients.empty());
  for (const std::string& recipient : built->recipients) {
    TASKQ_FUZZ_CHECK(recipient.find_first_of("\r\n<>,") == std::string::npos);
  }
  TASKQ_FUZZ_CHECK(built->envelope_from.find_first_of("\r\n<>") == std::string::npos);
  return 0;
}
