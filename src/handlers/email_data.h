// The data of an `email` job, checked and read (docs/job-types.md): what the worker sends and the
// API validates at enqueue time. Private to src/handlers/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/email.h"
#include "handlers/mime_message.h"
#include "taskq/status.h"

namespace taskq::handlers {

struct AttachmentSpec {
  std::string field;  // "data.attachments[i]", for errors found while loading
  std::optional<std::string> path;
  std::string content;  // decoded, when given inline
  std::string filename;
  std::string content_type;
};

struct EmailData {
  MailAddress from;
  std::vector<MailAddress> to, cc, bcc, reply_to;
  std::string subject, text, html;
  std::vector<AttachmentSpec> attachments;
};

// Every field checked against the limits and `options` (attachments by path only below
// options.attachments_dir); inline attachments are decoded, those by path are loaded when the job
// runs. Errors name the field ("data.to[2]").
Result<EmailData> ParseEmailData(std::string_view data_json, const EmailOptions& options);

// ASCII letters and digits, whatever the locale.
inline bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace taskq::handlers
