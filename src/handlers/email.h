// The built-in `email` job type: validates a job's data, builds the MIME message and delivers it
// over SMTP (libcurl), or writes it to a file outbox when no SMTP server is configured.
// Data fields, results and errors are documented in docs/job-types.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

struct EmailOptions {
  std::string smtp_url;   // "" = outbox mode; e.g. smtp://host:25, smtps://host:465
  bool starttls = false;  // require STARTTLS on smtp://
  std::string username, password;
  std::string default_from = "taskq@localhost";
  std::string outbox_dir = "data/outbox";
  std::chrono::milliseconds timeout{30000};
  size_t max_attachment_bytes = 10 << 20;  // per message, after decoding
  // Attachments named by `path` are read from below this directory only, without following
  // symbolic links. Empty (the default): a `path` attachment is refused, since it would let
  // whoever may enqueue email jobs mail any file the worker can read.
  std::string attachments_dir;
};

// Checks a job's data without sending anything. Errors name the field: "data.to",
// "data.attachments[1].content", ... (Status with StatusCode::kInvalidArgument and field()).
// Used by the HTTP API to answer 422 at enqueue time. Limits are those of `options`; a `path`
// attachment is refused unless options.attachments_dir is set, and must lie below it (the file is
// only read when the job runs).
Status ValidateEmailData(std::string_view data_json, const EmailOptions& options);

// The message a job's data describes, as the handler sends it: the MIME text (CRLF lines), the
// envelope sender and recipients (bcc included) and the Message-ID, derived from `job_id`. Reads
// `path` attachments below options.attachments_dir. Errors as ValidateEmailData's, plus those of
// reading an attachment (kUnavailable for I/O errors worth a retry).
struct BuiltEmail {
  std::string mime;
  std::string envelope_from;
  std::vector<std::string> recipients;
  std::string message_id;
};
Result<BuiltEmail> BuildEmail(std::string_view data_json, std::string_view job_id,
                              const EmailOptions& options);

// The handler validates the data again when it runs (another producer may have enqueued it). It
// blocks for the SMTP conversation, so it must run on a handler thread (not run_inline). Safe to
// call from several threads at once.
Handler MakeEmailHandler(EmailOptions options);

}  // namespace taskq::handlers
