// Renders an email as MIME text (RFC 5322, 2045-2047, 2231) ready for SMTP DATA or an .eml file.
// Pure: no I/O, no clock; the caller supplies the date and the Message-ID.
//
// Output guarantees: CRLF line endings only; body lines at most 76 characters (quoted-printable
// text, base64 attachments); header lines folded to 78 characters where the atoms allow and always
// below 998; no byte of a header value can end a line, whatever the input (non-ASCII and control
// characters in phrases go into RFC 2047 encoded-words, addresses and content types are refused).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/status.h"

namespace taskq::handlers {

struct MailAddress {
  std::string name;     // display name, UTF-8; empty for none
  std::string address;  // "local@domain", ASCII
};

struct MailAttachment {
  std::string filename;                                   // UTF-8, no directory part
  std::string content_type = "application/octet-stream";  // "type/subtype[; attr=value]..."
  std::string bytes;                                      // the decoded content
};

struct MailMessage {
  MailAddress from;
  std::vector<MailAddress> to;
  std::vector<MailAddress> cc;  // Bcc recipients never appear in the message, only the envelope
  std::vector<MailAddress> reply_to;
  std::string subject;  // UTF-8
  std::string text;     // UTF-8 plain body; empty for none
  std::string html;     // UTF-8 HTML body; empty for none
  std::vector<MailAttachment> attachments;
  std::string message_id;  // with its angle brackets: "<left@right>"
  std::chrono::system_clock::time_point date;
};

// The whole message: headers, a blank line, the body. Fails (kInvalidArgument) only when an
// address, the Message-ID or a content type holds a byte that could break the header structure;
// callers validate those first, this is the last line of defence against header injection.
Result<std::string> BuildMimeMessage(const MailMessage& message);

// Building blocks, exposed for their unit tests.

// RFC 2045 quoted-printable for a text body: LF or CRLF become CRLF line breaks, lines at most 76
// characters, trailing whitespace and a leading '.' encoded.
std::string QuotedPrintableEncode(std::string_view text);
// "Tue, 07 May 2024 09:05:03 +0000"
std::string FormatRfc5322Date(std::chrono::system_clock::time_point time);
// True when `address` may stand between angle brackets in a header: non-empty printable ASCII
// without spaces, '<', '>', '"', ',', ';' or '\'.
bool IsSafeHeaderAddress(std::string_view address);

}  // namespace taskq::handlers
