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
#include <vector>

#include "handlers/data_fields.h"
#include "handlers/email_data.h"
#include "handlers/http_target.h"
#include "handlers/mime_message.h"
#include "handlers/rooted_file.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

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
