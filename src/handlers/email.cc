#include "handlers/email.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/base64.h"
#include "handlers/data_fields.h"
#include "handlers/http_target.h"
#include "handlers/mime_message.h"
#include "handlers/rooted_file.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

// Limits on everything a job's producer controls. The job body itself is capped by the client;
// these keep one message within what mail servers accept and what a worker can hold.
constexpr size_t kMaxRecipients = 100;  // to + cc + bcc
constexpr size_t kMaxReplyTo = 10;
constexpr size_t kMaxSubjectBytes = 998;
constexpr size_t kMaxBodyBytes = 2 << 20;  // text and html each
constexpr size_t kMaxAttachments = 20;
constexpr size_t kMaxDisplayNameBytes = 256;
constexpr size_t kMaxFilenameBytes = 255;
constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxContentTypeBytes = 255;

// ----------------------------------------------------------------------------------------------
// Validation

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

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// Pragmatic, not RFC 5321 complete: dot-atom local part, LDH domain labels. Quoted local parts,
// address literals and non-ASCII addresses (SMTPUTF8) are refused.
bool IsValidAddress(std::string_view address) {
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos || address.size() > 254) return false;
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : local) {
    if (!IsAsciiAlnum(c) &&
        std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) == std::string_view::npos) {
      return false;
    }
  }
  if (domain.empty() || domain.size() > 253) return false;
  size_t pos = 0;
  while (pos <= domain.size()) {
    size_t dot = domain.find('.', pos);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(pos, dot - pos);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(),
                     [](char c) { return IsAsciiAlnum(c) || c == '-'; })) {
      return false;
    }
    pos = dot + 1;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "local@domain" or "Display Name <local@domain>" (the name may be in double quotes).
Result<MailAddress> ParseAddress(std::string_view text, const std::string& field) {
  if (HasControlCharacter(text)) {
    return InvalidArgument(field, "must not contain control characters (CR, LF, ...)");
  }
  MailAddress out;
  text = TrimSpaces(text);
  std::string_view address = text;
  if (!text.empty() && text.back() == '>') {
    const size_t open = text.rfind('<');
    if (open == std::string_view::npos) return InvalidArgument(field, "unbalanced '<' and '>'");
    address = text.substr(open + 1, text.size() - open - 2);
    std::string_view name = TrimSpaces(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    if (name.size() > kMaxDisplayNameBytes) {
      return InvalidArgument(field, "display name is longer than 256 bytes");
    }
    out.name = std::string(name);
  }
  if (!IsValidAddress(address)) {
    return InvalidArgument(field,
                           "must be an email address (local@domain, optionally as "
                           "\"Name <local@domain>\")");
  }
  out.address = std::string(address);
  return out;
}

// A string, or a list of strings, of addresses. Adds to `out`; `field` is e.g. "data.to".
Status ParseAddressList(const json::value* value, const std::string& field, bool required,
                        std::vector<MailAddress>* out) {
  if (value == nullptr || value->is_null()) {
    return required ? InvalidArgument(field, "is required") : Status::Ok();
  }
  if (const json::string* one = value->if_string()) {
    auto address = ParseAddress(View(*one), field);
    if (!address.ok()) return address.status();
    out->push_back(std::move(*address));
    return Status::Ok();
  }
  const json::array* list = value->if_array();
  if (list == nullptr) return InvalidArgument(field, "must be a string or a list of strings");
  if (list->empty() && required) return InvalidArgument(field, "must not be empty");
  if (list->size() > kMaxRecipients) {
    return InvalidArgument(field, "has more than " + std::to_string(kMaxRecipients) + " entries");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string item_field = field + "[" + std::to_string(i) + "]";
    const json::string* item = (*list)[i].if_string();
    if (item == nullptr) return InvalidArgument(item_field, "must be a string");
    auto address = ParseAddress(View(*item), item_field);
    if (!address.ok()) return address.status();
    out->push_back(std::move(*address));
  }
  return Status::Ok();
}

// An optional string field; `*out` keeps its value when the field is absent.
Status GetString(const json::object& object, std::string_view key, const std::string& field,
                 size_t max_bytes, std::string* out) {
  Result<std::optional<std::string>> value = OptionalString(object, key, field, max_bytes);
  if (!value.ok()) return value.status();
  if (value->has_value()) *out = std::move(**value);
  return Status::Ok();
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c > 0x20 && c < 0x7f &&
           std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
  });
}

// "type/subtype" then optional "; attribute=value" parameters, value a token or a quoted string
// without quotes or backslashes inside (RFC 2045 5.1, pragmatically).
bool IsValidContentType(std::string_view s) {
  if (s.size() > kMaxContentTypeBytes) return false;
  size_t semicolon = s.find(';');
  std::string_view type = TrimSpaces(s.substr(0, semicolon));
  const size_t slash = type.find('/');
  if (slash == std::string_view::npos || !IsToken(type.substr(0, slash)) ||
      !IsToken(type.substr(slash + 1))) {
    return false;
  }
  while (semicolon != std::string_view::npos) {
    const size_t start = semicolon + 1;
    semicolon = s.find(';', start);
    std::string_view parameter = TrimSpaces(s.substr(start, semicolon - start));
    const size_t equals = parameter.find('=');
    if (equals == std::string_view::npos || !IsToken(parameter.substr(0, equals))) return false;
    std::string_view value = parameter.substr(equals + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
      if (!std::all_of(value.begin(), value.end(), [](char c) {
            return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ';';
          })) {
        return false;
      }
    } else if (!IsToken(value)) {
      return false;
    }
  }
  return true;
}

Status ParseAttachment(const json::value& value, const std::string& field, size_t* decoded_total,
                       const EmailOptions& options, AttachmentSpec* out) {
  const json::object* object = value.if_object();
  if (object == nullptr) return InvalidArgument(field, "must be an object");
  TASKQ_RETURN_IF_ERROR(
      RejectUnknownKeys(*object, {"path", "content", "filename", "content_type"}, field));
  out->field = field;
  const json::value* path = object->if_contains("path");
  const json::value* content = object->if_contains("content");
  if (path != nullptr && path->is_null()) path = nullptr;
  if (content != nullptr && content->is_null()) content = nullptr;
  if (path == nullptr && content == nullptr) {
    return InvalidArgument(field, "needs a path or a base64 content");
  }
  if (path != nullptr && content != nullptr) {
    return InvalidArgument(field, "takes a path or a content, not both");
  }
  if (path != nullptr) {
    const json::string* s = path->if_string();
    if (s == nullptr || s->empty() || s->size() > kMaxPathBytes || HasControlCharacter(View(*s))) {
      return InvalidArgument(field + ".path", "must be a file path");
    }
    if (options.attachments_dir.empty()) {
      return InvalidArgument(field + ".path",
                             "no attachments directory is configured (--email-attachments-dir), "
                             "so attachments must be base64 content");
    }
    TASKQ_RETURN_IF_ERROR(
        ComponentsBelow(options.attachments_dir, View(*s), field + ".path").status());
    out->path = std::string(View(*s));
    out->filename = std::filesystem::path(*out->path).filename().string();
  } else {
    const json::string* s = content->if_string();
    if (s == nullptr) return InvalidArgument(field + ".content", "must be a base64 string");
    auto decoded = Base64Decode(View(*s));
    if (!decoded) {
      return InvalidArgument(field + ".content",
                             "is not valid base64 (standard alphabet, with padding)");
    }
    out->content = std::move(*decoded);
    *decoded_total += out->content.size();
    if (*decoded_total > options.max_attachment_bytes) {
      return InvalidArgument("data.attachments", "decoded attachments exceed " +
                                                     std::to_string(options.max_attachment_bytes) +
                                                     " bytes in total");
    }
  }
  TASKQ_RETURN_IF_ERROR(
      GetString(*object, "filename", field + ".filename", kMaxFilenameBytes, &out->filename));
  if (out->filename.empty()) {
    return InvalidArgument(field + ".filename", "is required with a content");
  }
  if (HasControlCharacter(out->filename) ||
      out->filename.find_first_of("/\\") != std::string::npos) {
    return InvalidArgument(field + ".filename",
                           "must be a plain file name: no control characters, '/' or '\\'");
  }
  out->content_type = "application/octet-stream";
  TASKQ_RETURN_IF_ERROR(GetString(*object, "content_type", field + ".content_type",
                                  kMaxContentTypeBytes, &out->content_type));
  if (!IsValidContentType(out->content_type)) {
    return InvalidArgument(field + ".content_type",
                           "must be a MIME type such as \"application/pdf\"");
  }
  return Status::Ok();
}

Result<EmailData> ParseEmailData(std::string_view data_json, const EmailOptions& options) {
  Result<json::value> root = ParseDataObject(data_json);
  if (!root.ok()) return root.status();
  const json::object* data = &root->get_object();
  TASKQ_RETURN_IF_ERROR(RejectUnknownKeys(
      *data, {"to", "cc", "bcc", "from", "reply_to", "subject", "text", "html", "attachments"},
      "data"));
  EmailData out;
  TASKQ_RETURN_IF_ERROR(ParseAddressList(data->if_contains("to"), "data.to", true, &out.to));
  TASKQ_RETURN_IF_ERROR(ParseAddressList(data->if_contains("cc"), "data.cc", false, &out.cc));
  TASKQ_RETURN_IF_ERROR(ParseAddressList(data->if_contains("bcc"), "data.bcc", false, &out.bcc));
  if (out.to.size() + out.cc.size() + out.bcc.size() > kMaxRecipients) {
    return InvalidArgument("data.to", "to, cc and bcc together exceed " +
                                          std::to_string(kMaxRecipients) + " recipients");
  }
  TASKQ_RETURN_IF_ERROR(
      ParseAddressList(data->if_contains("reply_to"), "data.reply_to", false, &out.reply_to));
  if (out.reply_to.size() > kMaxReplyTo) {
    return InvalidArgument("data.reply_to",
                           "has more than " + std::to_string(kMaxReplyTo) + " addresses");
  }

  const json::value* from = data->if_contains("from");
  if (from != nullptr && !from->is_null()) {
    if (!from->is_string()) return InvalidArgument("data.from", "must be a string");
    auto parsed = ParseAddress(View(from->get_string()), "data.from");
    if (!parsed.ok()) return parsed.status();
    out.from = std::move(*parsed);
  } else {
    auto parsed = ParseAddress(options.default_from, "default_from");
    if (!parsed.ok()) return parsed.status();
    out.from = std::move(*parsed);
  }

  TASKQ_RETURN_IF_ERROR(
      GetString(*data, "subject", "data.subject", kMaxSubjectBytes, &out.subject));
  if (HasControlCharacter(out.subject)) {
    return InvalidArgument("data.subject", "must not contain control characters (CR, LF, ...)");
  }
  TASKQ_RETURN_IF_ERROR(GetString(*data, "text", "data.text", kMaxBodyBytes, &out.text));
  TASKQ_RETURN_IF_ERROR(GetString(*data, "html", "data.html", kMaxBodyBytes, &out.html));
  // Neither text nor html is a valid (empty-bodied) message: the README's quick-start job sends
  // only a subject.

  const json::value* attachments = data->if_contains("attachments");
  if (attachments != nullptr && !attachments->is_null()) {
    const json::array* list = attachments->if_array();
    if (list == nullptr) return InvalidArgument("data.attachments", "must be a list");
    if (list->size() > kMaxAttachments) {
      return InvalidArgument("data.attachments",
                             "has more than " + std::to_string(kMaxAttachments) + " entries");
    }
    size_t decoded_total = 0;
    out.attachments.resize(list->size());
    for (size_t i = 0; i < list->size(); ++i) {
      TASKQ_RETURN_IF_ERROR(ParseAttachment((*list)[i],
                                            "data.attachments[" + std::to_string(i) + "]",
                                            &decoded_total, options, &out.attachments[i]));
    }
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// Running a job

// Reads an attachment named by path, below the attachments directory and following no symbolic
// link. A file that is missing, outside the directory, not a regular file or too large is the
// producer's mistake (kInvalidArgument); any other I/O error may pass (kUnavailable).
Status LoadAttachmentFile(AttachmentSpec& spec, const std::string& root, size_t* total,
                          size_t limit) {
  const std::string field = spec.field + ".path";
  Result<UniqueFd> file = OpenRegularFileBelow(root, *spec.path, field);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return InvalidArgument(field, "cannot open " + *spec.path + ": no such file");
    }
    return file.status();
  }
  struct stat info {};
  if (::fstat(file->get(), &info) != 0) {
    return Unavailable("cannot read " + *spec.path + ": " + std::strerror(errno));
  }
  const auto size = static_cast<size_t>(info.st_size);
  if (*total + size > limit) {
    return InvalidArgument("data.attachments", "attachments exceed " + std::to_string(limit) +
                                                   " bytes in total with " + *spec.path);
  }
  // One byte more than the size, to notice a file that grew since fstat.
  spec.content.resize(size + 1);
  size_t filled = 0;
  while (filled < spec.content.size()) {
    const ssize_t n =
        ::read(file->get(), spec.content.data() + filled, spec.content.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable("cannot read " + *spec.path + ": " + std::strerror(errno));
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  if (filled > size) return Unavailable(*spec.path + " changed while being read");
  spec.content.resize(filled);
  *total += filled;
  return Status::Ok();
}

// Job ids may hold characters that are not allowed in a Message-ID or safe in a file name; keep
// letters, digits, '_' and '-', and write any other byte as "=XX" (injective: '=' is escaped too).
std::string EscapeJobId(std::string_view id) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : id) {
    if (IsAsciiAlnum(c) || c == '_' || c == '-') {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += {'=', kHex[byte >> 4], kHex[byte & 0xF]};
    }
  }
  return out;
}

// Envelope recipients, each once (compared without case), in order of first appearance.
std::vector<std::string> EnvelopeRecipients(const EmailData& data) {
  std::vector<std::string> out;
  std::vector<std::string> seen;
  for (const auto* list : {&data.to, &data.cc, &data.bcc}) {
    for (const MailAddress& a : *list) {
      std::string key = a.address;
      std::transform(key.begin(), key.end(), key.begin(),
                     [](char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; });
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(std::move(key));
      out.push_back(a.address);
    }
  }
  return out;
}

// Writes under a temporary name in the same directory, flushes, then renames: a reader (or a
// crash) sees the whole file or none. The same job id always maps to the same name, so a retry
// replaces the earlier file. Returns the absolute path.
Result<std::string> WriteOutboxFile(const std::string& dir, const std::string& name,
                                    std::string_view contents) {
  std::error_code ec;
  const std::filesystem::path directory = std::filesystem::absolute(dir, ec);
  if (ec) return Unavailable("outbox " + dir + ": " + ec.message());
  std::filesystem::create_directories(directory, ec);
  if (ec) return Unavailable("cannot create outbox " + directory.string() + ": " + ec.message());
  const std::filesystem::path final_path = directory / name;
  std::string temp = (directory / ("." + name + ".XXXXXX")).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return Unavailable("cannot create a file in " + directory.string() + ": " +
                       std::strerror(errno));
  auto fail = [&](std::string what) -> Status {
    const std::string message = what + " " + temp + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return Unavailable(message);
  };
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot flush");
  if (::close(fd) != 0) {
    const std::string message = "cannot close " + temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return Unavailable(message);
  }
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    const std::string message = "cannot rename " + temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return Unavailable(message);
  }
  // Makes the rename itself durable; the file is complete either way, so a failure is ignored.
  if (const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return final_path.string();
}

// --- SMTP through libcurl ---

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Upload {
  std::string_view data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

// Keeps the server's last error reply (4xx or 5xx), so a failure can say what the server said;
// later lines such as the "221" answering curl's QUIT are not the reason.
int RecordServerReply(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN || size == 0 || (data[0] != '4' && data[0] != '5')) return 0;
  auto* reply = static_cast<std::string*>(user);
  reply->clear();
  for (size_t i = 0; i < size && reply->size() < 200; ++i) {
    const char c = data[i];
    if (c == '\r' || c == '\n') break;
    reply->push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return 0;
}

int AbortWhenStopped(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<JobContext*>(user)->stop_requested() ? 1 : 0;
}

// 5xx replies are permanent (RFC 5321 4.2.1): resending the same message gets the same answer.
// 4xx replies and transport failures may pass. Settings the server refuses (no STARTTLS, bad
// URL, credentials without a reply code) need an operator, not a retry.
HandlerResult SmtpFailure(CURLcode code, long reply_code, const char* error_buffer,
                          const std::string& last_reply) {
  std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  if (!last_reply.empty()) detail += " (server: \"" + last_reply + "\")";
  if (reply_code >= 500 && reply_code < 600) {
    return HandlerResult::Fail("smtp: rejected permanently (" + std::to_string(reply_code) +
                               "): " + detail);
  }
  if (reply_code >= 400 && reply_code < 500) {
    return HandlerResult::Retry("smtp: temporary failure (" + std::to_string(reply_code) +
                                "): " + detail);
  }
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_USE_SSL_FAILED:
    case CURLE_LOGIN_DENIED:
      return HandlerResult::Fail("smtp: configuration error: " + detail);
    default:
      return HandlerResult::Retry("smtp: " + detail);
  }
}

HandlerResult SendSmtp(const EmailOptions& options, JobContext& ctx, const std::string& from,
                       const std::vector<std::string>& recipients, std::string_view message) {
  std::unique_ptr<CURL, CurlEasyDeleter> curl(curl_easy_init());
  if (!curl) return HandlerResult::Retry("smtp: curl_easy_init failed");
  std::unique_ptr<curl_slist, CurlSlistDeleter> rcpt;
  for (const std::string& r : recipients) {
    curl_slist* next = curl_slist_append(rcpt.get(), ("<" + r + ">").c_str());
    if (next == nullptr) return HandlerResult::Retry("smtp: out of memory");
    rcpt.release();
    rcpt.reset(next);
  }
  // The attempt's deadline bounds the whole conversation, as does the configured timeout.
  const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      ctx.deadline() - std::chrono::steady_clock::now());
  const long timeout_ms = std::max<long>(1, std::min(options.timeout, remaining).count());

  Upload upload{message};
  std::string last_reply;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const std::string mail_from = "<" + from + ">";
  CURL* c = curl.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(c, option, value);
  };
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_URL, options.smtp_url.c_str());
  // The URL comes from configuration, but nothing but SMTP may ever be spoken with it.
  set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  set(CURLOPT_NOSIGNAL, 1L);  // handler threads: no SIGALRM-based DNS timeouts
  set(CURLOPT_TIMEOUT_MS, timeout_ms);
  set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  if (options.starttls) set(CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!options.username.empty()) {
    set(CURLOPT_USERNAME, options.username.c_str());
    set(CURLOPT_PASSWORD, options.password.c_str());
  }
  set(CURLOPT_MAIL_FROM, mail_from.c_str());
  set(CURLOPT_MAIL_RCPT, rcpt.get());
  set(CURLOPT_UPLOAD, 1L);
  set(CURLOPT_READFUNCTION, &ReadUpload);
  set(CURLOPT_READDATA, &upload);
  set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  set(CURLOPT_NOPROGRESS, 0L);
  set(CURLOPT_XFERINFOFUNCTION, &AbortWhenStopped);
  set(CURLOPT_XFERINFODATA, static_cast<void*>(&ctx));
  set(CURLOPT_DEBUGFUNCTION, &RecordServerReply);
  set(CURLOPT_DEBUGDATA, &last_reply);
  set(CURLOPT_VERBOSE, 1L);  // feeds RecordServerReply; nothing is printed
  if (rc != CURLE_OK) {
    return HandlerResult::Fail(std::string("smtp: configuration error: ") + curl_easy_strerror(rc));
  }
  rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return HandlerResult::Success();
  if (rc == CURLE_ABORTED_BY_CALLBACK) return HandlerResult::Retry("smtp: stopped");
  long reply_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply_code);
  return SmtpFailure(rc, reply_code, error_buffer, last_reply);
}

HandlerResult RunEmailJob(const EmailOptions& options, JobContext& ctx) {
  Result<BuiltEmail> built = BuildEmail(ctx.data_json(), ctx.id(), options);
  if (!built.ok()) return ResultFromStatus(built.status());
  const std::vector<std::string>& recipients = built->recipients;

  json::object result;
  if (options.smtp_url.empty()) {
    auto path = WriteOutboxFile(options.outbox_dir, EscapeJobId(ctx.id()) + ".eml", built->mime);
    if (!path.ok()) return ResultFromStatus(path.status());
    result["delivery"] = "outbox";
    result["path"] = *path;
  } else {
    if (ctx.stop_requested()) return HandlerResult::Retry("smtp: stopped before sending");
    HandlerResult sent = SendSmtp(options, ctx, built->envelope_from, recipients, built->mime);
    if (sent.kind != HandlerResult::Kind::kSuccess) return sent;
    result["delivery"] = "smtp";
  }
  result["message_id"] = built->message_id;
  result["recipients"] = recipients.size();
  ctx.Log("email " + built->message_id + " delivered to " + std::to_string(recipients.size()) +
          " recipient(s) via " + std::string(result["delivery"].as_string()));
  return HandlerResult::Success(json::serialize(result));
}

}  // namespace

Result<BuiltEmail> BuildEmail(std::string_view data_json, std::string_view job_id,
                              const EmailOptions& options) {
  auto data = ParseEmailData(data_json, options);
  if (!data.ok()) return data.status();

  // Inline contents were counted while parsing; files join that budget as they are read.
  size_t attachment_bytes = 0;
  for (const AttachmentSpec& spec : data->attachments) attachment_bytes += spec.content.size();
  MailMessage message;
  for (AttachmentSpec& spec : data->attachments) {
    if (spec.path) {
      TASKQ_RETURN_IF_ERROR(LoadAttachmentFile(spec, options.attachments_dir, &attachment_bytes,
                                               options.max_attachment_bytes));
    }
    message.attachments.push_back(
        {std::move(spec.filename), std::move(spec.content_type), std::move(spec.content)});
  }
  BuiltEmail out;
  out.recipients = EnvelopeRecipients(*data);
  out.envelope_from = data->from.address;
  const std::string& from = data->from.address;
  // The same id on every attempt, so a receiver can tell a resend from a second message.
  message.message_id = "<" + EscapeJobId(job_id) + "@" + from.substr(from.rfind('@') + 1) + ">";
  message.date = std::chrono::system_clock::now();
  message.from = std::move(data->from);
  message.to = std::move(data->to);
  message.cc = std::move(data->cc);
  message.reply_to = std::move(data->reply_to);
  message.subject = std::move(data->subject);
  message.text = std::move(data->text);
  message.html = std::move(data->html);
  Result<std::string> mime = BuildMimeMessage(message);
  if (!mime.ok()) return mime.status();
  out.mime = std::move(*mime);
  out.message_id = std::move(message.message_id);
  return out;
}

Status ValidateEmailData(std::string_view data_json, const EmailOptions& options) {
  return ParseEmailData(data_json, options).status();
}

Handler MakeEmailHandler(EmailOptions options) {
  InitCurlOnce();
  return [options = std::move(options)](JobContext& ctx) { return RunEmailJob(options, ctx); };
}

}  // namespace taskq::handlers
