#include "handlers/email_data.h"

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/base64.h"
#include "common/field_errors.h"
#include "handlers/data_fields.h"
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

// A string, or a list of strings, of addresses. Adds to `out`; `field` is e.g. "data.to". Names
// every invalid entry of a list.
Status ParseAddressList(const json::value* value, const std::string& field, bool required,
                        std::vector<MailAddress>* out) {
  if (value == nullptr || value->is_null()) {
    return required ? InvalidArgument(field, "is required") : Status::Ok();
  }
  if (const json::string* one = value->if_string()) {
    auto address = ParseAddress(TextOf(*one), field);
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
  FieldErrors errors;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string item_field = field + "[" + std::to_string(i) + "]";
    const json::string* item = (*list)[i].if_string();
    if (item == nullptr) {
      errors.Add(InvalidArgument(item_field, "must be a string"));
      continue;
    }
    auto address = ParseAddress(TextOf(*item), item_field);
    if (errors.Check(address.status())) out->push_back(std::move(*address));
  }
  return std::move(errors).ToStatus();
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

// An attachment by path: the file name comes from the path.
Status ParseAttachmentPath(const json::value& path, const std::string& field,
                           const EmailOptions& options, AttachmentSpec* out) {
  const json::string* s = path.if_string();
  if (s == nullptr || s->empty() || s->size() > kMaxPathBytes || HasControlCharacter(TextOf(*s))) {
    return InvalidArgument(field + ".path", "must be a file path");
  }
  if (options.attachments_dir.empty()) {
    return InvalidArgument(field + ".path",
                           "no attachments directory is configured (--email-attachments-dir), "
                           "so attachments must be base64 content");
  }
  TASKQ_RETURN_IF_ERROR(
      ComponentsBelow(options.attachments_dir, TextOf(*s), field + ".path").status());
  out->path = std::string(TextOf(*s));
  out->filename = std::filesystem::path(*out->path).filename().string();
  return Status::Ok();
}

// An attachment given inline: decoded, and counted in `decoded_total`.
Status ParseAttachmentContent(const json::value& content, const std::string& field,
                              size_t* decoded_total, const EmailOptions& options,
                              AttachmentSpec* out) {
  const json::string* s = content.if_string();
  if (s == nullptr) return InvalidArgument(field + ".content", "must be a base64 string");
  auto decoded = Base64Decode(TextOf(*s));
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
  return Status::Ok();
}

// Names every invalid field of the attachment.
Status ParseAttachment(const json::value& value, const std::string& field, size_t* decoded_total,
                       const EmailOptions& options, AttachmentSpec* out) {
  const json::object* object = value.if_object();
  if (object == nullptr) return InvalidArgument(field, "must be an object");
  FieldErrors errors;
  errors.Check(RejectUnknownKeys(*object, {"path", "content", "filename", "content_type"}, field));
  out->field = field;
  const json::value* path = object->if_contains("path");
  const json::value* content = object->if_contains("content");
  if (path != nullptr && path->is_null()) path = nullptr;
  if (content != nullptr && content->is_null()) content = nullptr;
  if (path == nullptr && content == nullptr) {
    errors.Add(InvalidArgument(field, "needs a path or a base64 content"));
  } else if (path != nullptr && content != nullptr) {
    errors.Add(InvalidArgument(field, "takes a path or a content, not both"));
  } else if (path != nullptr) {
    errors.Check(ParseAttachmentPath(*path, field, options, out));
  } else {
    errors.Check(ParseAttachmentContent(*content, field, decoded_total, options, out));
  }
  // A valid path gives the file name; a content needs one, and a name given must not be empty.
  // (An invalid path leaves it empty, which is that path's error alone.)
  const json::value* filename = object->if_contains("filename");
  const bool name_needed =
      (path == nullptr && content != nullptr) || (filename != nullptr && !filename->is_null());
  if (errors.Check(
          GetString(*object, "filename", field + ".filename", kMaxFilenameBytes, &out->filename))) {
    if (out->filename.empty()) {
      if (name_needed) {
        errors.Add(InvalidArgument(field + ".filename", "is required with a content"));
      }
    } else if (HasControlCharacter(out->filename) ||
               out->filename.find_first_of("/\\") != std::string::npos) {
      errors.Add(InvalidArgument(field + ".filename",
                                 "must be a plain file name: no control characters, '/' or '\\'"));
    }
  }
  out->content_type = "application/octet-stream";
  if (errors.Check(GetString(*object, "content_type", field + ".content_type", kMaxContentTypeBytes,
                             &out->content_type)) &&
      !IsValidContentType(out->content_type)) {
    errors.Add(InvalidArgument(field + ".content_type",
                               "must be a MIME type such as \"application/pdf\""));
  }
  return std::move(errors).ToStatus();
}

}  // namespace

Result<EmailData> ParseEmailData(std::string_view data_json, const EmailOptions& options) {
  Result<json::value> root = ParseDataObject(data_json);
  if (!root.ok()) return root.status();
  const json::object* data = &root->get_object();
  // Every invalid field is named, not only the first (docs/http-api.md, "Errors"); a check that
  // needs another field's value runs only once that field was read.
  FieldErrors errors;
  errors.Check(RejectUnknownKeys(
      *data, {"to", "cc", "bcc", "from", "reply_to", "subject", "text", "html", "attachments"},
      "data"));
  EmailData out;
  const bool to_read =
      errors.Check(ParseAddressList(data->if_contains("to"), "data.to", true, &out.to));
  const bool cc_read =
      errors.Check(ParseAddressList(data->if_contains("cc"), "data.cc", false, &out.cc));
  const bool bcc_read =
      errors.Check(ParseAddressList(data->if_contains("bcc"), "data.bcc", false, &out.bcc));
  if (to_read && cc_read && bcc_read &&
      out.to.size() + out.cc.size() + out.bcc.size() > kMaxRecipients) {
    errors.Add(InvalidArgument("data.to", "to, cc and bcc together exceed " +
                                              std::to_string(kMaxRecipients) + " recipients"));
  }
  if (errors.Check(
          ParseAddressList(data->if_contains("reply_to"), "data.reply_to", false, &out.reply_to)) &&
      out.reply_to.size() > kMaxReplyTo) {
    errors.Add(InvalidArgument("data.reply_to",
                               "has more than " + std::to_string(kMaxReplyTo) + " addresses"));
  }

  const json::value* from = data->if_contains("from");
  if (from != nullptr && !from->is_null()) {
    if (!from->is_string()) {
      errors.Add(InvalidArgument("data.from", "must be a string"));
    } else if (auto parsed = ParseAddress(TextOf(from->get_string()), "data.from");
               errors.Check(parsed.status())) {
      out.from = std::move(*parsed);
    }
  } else if (auto parsed = ParseAddress(options.default_from, "default_from");
             errors.Check(parsed.status())) {
    out.from = std::move(*parsed);
  }

  if (errors.Check(GetString(*data, "subject", "data.subject", kMaxSubjectBytes, &out.subject)) &&
      HasControlCharacter(out.subject)) {
    errors.Add(
        InvalidArgument("data.subject", "must not contain control characters (CR, LF, ...)"));
  }
  errors.Check(GetString(*data, "text", "data.text", kMaxBodyBytes, &out.text));
  errors.Check(GetString(*data, "html", "data.html", kMaxBodyBytes, &out.html));
  // Neither text nor html is a valid (empty-bodied) message: the README's quick-start job sends
  // only a subject.

  const json::value* attachments = data->if_contains("attachments");
  if (attachments != nullptr && !attachments->is_null()) {
    const json::array* list = attachments->if_array();
    if (list == nullptr) {
      errors.Add(InvalidArgument("data.attachments", "must be a list"));
    } else if (list->size() > kMaxAttachments) {
      errors.Add(InvalidArgument("data.attachments",
                                 "has more than " + std::to_string(kMaxAttachments) + " entries"));
    } else {
      size_t decoded_total = 0;
      out.attachments.resize(list->size());
      for (size_t i = 0; i < list->size(); ++i) {
        errors.Check(ParseAttachment((*list)[i], "data.attachments[" + std::to_string(i) + "]",
                                     &decoded_total, options, &out.attachments[i]));
      }
    }
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return out;
}

}  // namespace taskq::handlers
