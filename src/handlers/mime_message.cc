#include "handlers/mime_message.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

#include "common/base64.h"

namespace taskq::handlers {
namespace {

constexpr std::string_view kHex = "0123456789ABCDEF";

// Header lines are folded before this many characters when the next atom allows (RFC 5322
// recommends 78; 998 is the hard limit, which no single atom reaches).
constexpr size_t kFoldAt = 78;
// Raw bytes per RFC 2047 encoded-word: 42 bytes are 56 base64 characters, 68 with the
// "=?UTF-8?B?" and "?=" around them, so even "Reply-To: " plus one word stays within 78.
constexpr size_t kEncodedWordBytes = 42;
// Longest RFC 2231 filename segment value before a continuation.
constexpr size_t kParameterSegment = 56;

// Boundaries start with "=_": quoted-printable writes every '=' as "=3D" or a soft break, base64
// has no '_', and header lines never start with "--", so no encoded content can contain a
// delimiter line. Two fixed names suffice; neither is a prefix of the other.
constexpr std::string_view kMixedBoundary = "=_taskq_mixed";
constexpr std::string_view kAlternativeBoundary = "=_taskq_alt";

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool IsPrintableAscii(char c) { return c >= 0x20 && c <= 0x7e; }

// Writes one header, inserting a fold (CRLF and a space) between atoms where the line would get
// long. A fold only ever replaces the single space this writer puts between atoms.
class HeaderWriter {
 public:
  HeaderWriter(std::string* out, std::string_view name) : out_(out), line_(name.size() + 1) {
    out_->append(name);
    out_->push_back(':');
  }

  void Atom(std::string_view atom) {
    if (!first_ && line_ + 1 + atom.size() > kFoldAt) {
      out_->append("\r\n");
      line_ = 0;
    }
    out_->push_back(' ');
    out_->append(atom);
    line_ += 1 + atom.size();
    first_ = false;
  }
  void End() { out_->append("\r\n"); }

 private:
  std::string* out_;
  size_t line_;
  bool first_ = true;
};

// RFC 2047 "B" encoded-words, split on UTF-8 character boundaries (a decoder must never see half
// a character in one word).
std::vector<std::string> EncodedWords(std::string_view text) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.size(), pos + kEncodedWordBytes);
    while (end < text.size() && end > pos + 1 &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    words.push_back("=?UTF-8?B?" + Base64Encode(text.substr(pos, end - pos)) + "?=");
    pos = end;
  }
  return words;
}

// Words joined by single spaces, no leading/trailing space, each word made of `is_word_char`, no
// word that looks like an encoded-word, none too long to fold.
template <typename Pred>
std::optional<std::vector<std::string_view>> PlainWords(std::string_view text, Pred is_word_char) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t space = text.find(' ', pos);
    if (space == std::string_view::npos) space = text.size();
    std::string_view word = text.substr(pos, space - pos);
    if (word.empty() || word.size() > 66 || word.find("=?") != std::string_view::npos) {
      return std::nullopt;
    }
    for (char c : word) {
      if (!is_word_char(c)) return std::nullopt;
    }
    words.push_back(word);
    pos = space + 1;
  }
  return words;
}

// Unstructured text (Subject): plain when it is simple printable ASCII, encoded-words otherwise.
void AppendUnstructured(HeaderWriter& header, std::string_view text) {
  if (text.empty()) return;
  if (auto words = PlainWords(text, [](char c) { return c > 0x20 && c < 0x7f; })) {
    for (std::string_view word : *words) header.Atom(word);
    return;
  }
  for (const std::string& word : EncodedWords(text)) header.Atom(word);
}

void AppendAddressList(HeaderWriter& header, const std::vector<MailAddress>& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    const MailAddress& a = list[i];
    const std::string comma = i + 1 < list.size() ? "," : "";
    if (a.name.empty()) {
      header.Atom(a.address + comma);
      continue;
    }
    // A phrase of atoms needs no quoting; anything else (specials, non-ASCII) is encoded, which
    // also covers quotes and backslashes without a second escaping scheme.
    if (auto words = PlainWords(a.name, IsAtext)) {
      for (std::string_view word : *words) header.Atom(word);
    } else {
      for (const std::string& word : EncodedWords(a.name)) header.Atom(word);
    }
    header.Atom("<" + a.address + ">" + comma);
  }
}

// Left out when the list is empty (no Cc, no Reply-To).
void AppendAddressHeader(std::string* out, std::string_view name,
                         const std::vector<MailAddress>& list) {
  if (list.empty()) return;
  HeaderWriter header(out, name);
  AppendAddressList(header, list);
  header.End();
}

bool IsAttributeChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
}

// filename="..." when simple, else RFC 2231 continuations of percent-encoded UTF-8.
void AppendFilenameParameter(HeaderWriter& header, std::string_view filename) {
  bool plain = !filename.empty() && filename.size() <= kParameterSegment &&
               filename.find("=?") == std::string_view::npos;
  for (char c : filename) {
    if (!IsPrintableAscii(c) || c == '"' || c == '\\') plain = false;
  }
  if (plain) {
    header.Atom("filename=\"" + std::string(filename) + "\"");
    return;
  }
  std::vector<std::string> segments(1, "UTF-8''");
  for (char c : filename) {
    std::string piece(1, c);
    if (!IsAttributeChar(c)) {
      const auto byte = static_cast<unsigned char>(c);
      piece = {'%', kHex[byte >> 4], kHex[byte & 0xF]};
    }
    if (segments.back().size() + piece.size() > kParameterSegment) segments.emplace_back();
    segments.back() += piece;
  }
  if (segments.size() == 1) {
    header.Atom("filename*=" + segments[0]);
    return;
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    header.Atom("filename*" + std::to_string(i) + "*=" + segments[i] +
                (i + 1 < segments.size() ? ";" : ""));
  }
}

void AppendTextEntity(std::string* out, std::string_view subtype, std::string_view text) {
  out->append("Content-Type: text/");
  out->append(subtype);
  out->append("; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
  out->append(QuotedPrintableEncode(text));
}

void AppendAttachmentEntity(std::string* out, const MailAttachment& attachment) {
  HeaderWriter type(out, "Content-Type");
  type.Atom(attachment.content_type);
  type.End();
  out->append("Content-Transfer-Encoding: base64\r\n");
  HeaderWriter disposition(out, "Content-Disposition");
  disposition.Atom("attachment;");
  AppendFilenameParameter(disposition, attachment.filename);
  disposition.End();
  out->append("\r\n");
  out->append(Base64Encode(attachment.bytes, /*wrap=*/true));
}

// Each entity is written as its headers, a blank line and its content, with no line break after
// the content: the CRLF before a boundary delimiter belongs to the delimiter (RFC 2046 5.1.1).
void AppendBodyEntity(std::string* out, const MailMessage& m) {
  if (!m.text.empty() && !m.html.empty()) {
    out->append("Content-Type: multipart/alternative; boundary=\"");
    out->append(kAlternativeBoundary);
    out->append("\"\r\n\r\n");
    const std::string delimiter = "--" + std::string(kAlternativeBoundary);
    out->append(delimiter + "\r\n");
    AppendTextEntity(out, "plain", m.text);
    out->append("\r\n" + delimiter + "\r\n");
    AppendTextEntity(out, "html", m.html);
    out->append("\r\n" + delimiter + "--");
  } else if (!m.html.empty()) {
    AppendTextEntity(out, "html", m.html);
  } else {
    AppendTextEntity(out, "plain", m.text);
  }
}

Status CheckAddresses(const std::vector<MailAddress>& list, std::string_view field) {
  for (const MailAddress& a : list) {
    if (!IsSafeHeaderAddress(a.address)) {
      return InvalidArgument(std::string(field), "unsafe address in a header");
    }
  }
  return Status::Ok();
}

Status CheckHeaderSafety(const MailMessage& m) {
  TASKQ_RETURN_IF_ERROR(CheckAddresses({m.from}, "from"));
  TASKQ_RETURN_IF_ERROR(CheckAddresses(m.to, "to"));
  TASKQ_RETURN_IF_ERROR(CheckAddresses(m.cc, "cc"));
  TASKQ_RETURN_IF_ERROR(CheckAddresses(m.reply_to, "reply_to"));
  const std::string_view id = m.message_id;
  if (id.size() < 3 || id.front() != '<' || id.back() != '>' ||
      !IsSafeHeaderAddress(id.substr(1, id.size() - 2))) {
    return InvalidArgument("message_id", "must be <printable ASCII without spaces>");
  }
  for (const MailAttachment& a : m.attachments) {
    if (a.content_type.empty() || a.content_type.size() > 900) {
      return InvalidArgument("content_type", "must be 1 to 900 characters long");
    }
    for (char c : a.content_type) {
      if (!IsPrintableAscii(c)) {
        return InvalidArgument("content_type", "must be printable ASCII");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsSafeHeaderAddress(std::string_view address) {
  if (address.empty()) return false;
  for (char c : address) {
    if (c <= 0x20 || c >= 0x7f) return false;
    if (std::string_view("<>\",;\\").find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::string QuotedPrintableEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t line = 0;  // characters on the current output line
  auto escape = [](unsigned char byte) {
    return std::string{'=', kHex[byte >> 4], kHex[byte & 0xF]};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      out.append("\r\n");
      line = 0;
      continue;
    }
    const bool last_on_line = i + 1 == text.size() || text[i + 1] == '\n' ||
                              (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n');
    auto token_for = [&](size_t column) {
      const auto byte = static_cast<unsigned char>(c);
      // Trailing whitespace would be stripped in transit; a leading '.' is SMTP's end marker.
      if ((c == ' ' || c == '\t') && last_on_line) return escape(byte);
      if (c == '.' && column == 0) return escape(byte);
      if (c == ' ' || c == '\t' || (byte >= 33 && byte <= 126 && c != '=')) {
        return std::string(1, c);
      }
      return escape(byte);
    };
    std::string token = token_for(line);
    // A soft break takes one column ('='), except after the line's last character.
    const size_t limit = last_on_line ? 76 : 75;
    if (line + token.size() > limit) {
      out.append("=\r\n");
      line = 0;
      token = token_for(0);
    }
    out.append(token);
    line += token.size();
  }
  return out;
}

std::string FormatRfc5322Date(std::chrono::system_clock::time_point time) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t seconds = std::chrono::system_clock::to_time_t(time);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
           utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
           utc.tm_sec);
  return buffer;
}

Result<std::string> BuildMimeMessage(const MailMessage& m) {
  TASKQ_RETURN_IF_ERROR(CheckHeaderSafety(m));
  std::string out;
  AppendAddressHeader(&out, "From", {m.from});
  AppendAddressHeader(&out, "To", m.to);
  AppendAddressHeader(&out, "Cc", m.cc);
  AppendAddressHeader(&out, "Reply-To", m.reply_to);
  HeaderWriter subject(&out, "Subject");
  AppendUnstructured(subject, m.subject);
  subject.End();
  out.append("Date: " + FormatRfc5322Date(m.date) + "\r\n");
  HeaderWriter message_id(&out, "Message-ID");
  message_id.Atom(m.message_id);
  message_id.End();
  out.append("MIME-Version: 1.0\r\n");

  if (m.attachments.empty()) {
    AppendBodyEntity(&out, m);
  } else {
    const std::string delimiter = "--" + std::string(kMixedBoundary);
    out.append("Content-Type: multipart/mixed; boundary=\"");
    out.append(kMixedBoundary);
    out.append("\"\r\n\r\n");
    out.append(delimiter + "\r\n");
    AppendBodyEntity(&out, m);
    for (const MailAttachment& attachment : m.attachments) {
      out.append("\r\n" + delimiter + "\r\n");
      AppendAttachmentEntity(&out, attachment);
    }
    out.append("\r\n" + delimiter + "--");
  }
  if (!out.ends_with("\r\n")) out.append("\r\n");
  return out;
}

}  // namespace taskq::handlers
