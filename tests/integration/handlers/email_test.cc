// The email job type against a real SMTP server (aiosmtpd) and a real file system. Messages are
// checked with Python's email package, an independent MIME parser, as a mail client would read
// them.
#include "handlers/email.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "common/field_errors.h"
#include "testing/base64.h"
#include "testing/fake_job_context.h"
#include "testing/redis_server.h"
#include "testing/smtp_server.h"

namespace taskq::handlers {
namespace {

namespace json = boost::json;
using ::taskq::testing::FakeJobContext;
using ::taskq::testing::ReceivedMail;
using ::taskq::testing::SmtpServer;
using ::taskq::testing::SmtpServerOptions;
using ::taskq::testing::TempDir;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xF]);
  }
  return out;
}

using ::taskq::testing::Base64;

// What Python's email package makes of a message file (see tests/testing/parse_eml.py).
json::value ParseEml(const std::string& path) {
  const std::string command =
      std::string("/usr/bin/python3 ") + TASKQ_PARSE_EML_SCRIPT + " '" + path + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command;
  boost::system::error_code ec;
  json::value parsed = json::parse(output, ec);
  EXPECT_FALSE(ec) << output;
  return parsed;
}

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

std::string HeaderOf(const json::value& parsed, const char* name) {
  const json::value* value = parsed.at("headers").as_object().if_contains(name);
  return value ? Str(*value) : "";
}

// Every line ends with CRLF and holds at most 998 characters (RFC 5322 2.1.1).
void ExpectSmtpSafeLines(const std::string& raw) {
  size_t start = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') {
      ASSERT_TRUE(i > 0 && raw[i - 1] == '\r') << "bare LF at " << i;
      EXPECT_LE(i - 1 - start, 998u);
      start = i + 1;
    }
  }
  EXPECT_TRUE(raw.ends_with("\r\n"));
}

json::object Data() {
  return {{"to", "rcpt@example.com"}, {"subject", "Hello"}, {"text", "Hi.\n"}};
}

HandlerResult RunJob(const Handler& handler, const json::object& data, std::string id = "job-1") {
  FakeJobContext ctx(std::move(id), json::serialize(data));
  return handler(ctx);
}

class EmailSmtpTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<SmtpServer>(); }
  void TearDown() override { server_.reset(); }

  EmailOptions Options() const {
    EmailOptions options;
    options.smtp_url = server_->url();
    options.default_from = "Task Queue <noreply@example.com>";
    options.timeout = std::chrono::seconds(20);
    return options;
  }

  std::unique_ptr<SmtpServer> server_;
};

TEST_F(EmailSmtpTest, DeliversTextHtmlAndAttachmentsToEveryRecipient) {
  TempDir files;
  std::string file_bytes;
  for (int i = 0; i < 5000; ++i) file_bytes.push_back(static_cast<char>((i * 31 + 7) % 256));
  const std::string file_path = files.path() + "/Quartalsbericht März.pdf";
  std::ofstream(file_path, std::ios::binary) << file_bytes;
  std::string inline_bytes;
  for (int i = 0; i < 256; ++i) inline_bytes.push_back(static_cast<char>(i));

  const std::string subject = "Grüße aus Köln: your report is ready — 100 % done";
  const std::string text =
      "Hello Zoë,\n\nyour report is attached.\n.\nA line with a leading dot.\n";
  const std::string html = "<p>Hello Zoë,</p><p>your report is <b>attached</b>.</p>";
  json::object data = {
      {"from", "Zoë's Reports <reports@example.com>"},
      {"to", json::array{"Zoë Müller <zoe@example.com>", "bob@example.org"}},
      {"cc", "carol@example.net"},
      {"bcc", json::array{"audit@example.com"}},
      {"reply_to", "support@example.com"},
      {"subject", subject},
      {"text", text},
      {"html", html},
      {"attachments",
       json::array{
           json::object{{"content", Base64(inline_bytes)},
                        {"filename", "all-bytes.bin"},
                        {"content_type", "application/octet-stream"}},
           json::object{{"path", file_path}, {"content_type", "application/pdf"}},
       }},
  };
  FakeJobContext ctx("01HX3Q5Z8K2M4N6P7R9S", json::serialize(data));
  EmailOptions options = Options();
  options.attachments_dir = files.path();
  const HandlerResult result = MakeEmailHandler(options)(ctx);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;

  const json::value reply = json::parse(result.result_json);
  EXPECT_EQ(reply.at("delivery"), "smtp");
  EXPECT_EQ(reply.at("recipients"), 4);
  EXPECT_EQ(reply.at("message_id"), "<01HX3Q5Z8K2M4N6P7R9S@example.com>");
  ASSERT_EQ(ctx.log.size(), 1u);

  const std::vector<ReceivedMail> received = server_->Received();
  ASSERT_EQ(received.size(), 1u);
  const ReceivedMail& mail = received[0];
  EXPECT_EQ(mail.mail_from, "reports@example.com");
  EXPECT_EQ(mail.recipients, (std::vector<std::string>{"zoe@example.com", "bob@example.org",
                                                       "carol@example.net", "audit@example.com"}));
  ExpectSmtpSafeLines(mail.raw);
  std::string lower = mail.raw.substr(0, mail.raw.find("\r\n\r\n"));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(lower.find("bcc"), std::string::npos) << "a Bcc recipient leaked into the headers";
  EXPECT_EQ(lower.find("audit@"), std::string::npos);

  const json::value parsed = ParseEml(mail.path);
  EXPECT_EQ(parsed.at("defects").as_array().size(), 0u) << parsed.at("defects");
  EXPECT_EQ(HeaderOf(parsed, "Subject"), subject);
  EXPECT_EQ(HeaderOf(parsed, "From"), "Zoë's Reports <reports@example.com>");
  EXPECT_EQ(HeaderOf(parsed, "To"), "Zoë Müller <zoe@example.com>, bob@example.org");
  EXPECT_EQ(HeaderOf(parsed, "Cc"), "carol@example.net");
  EXPECT_EQ(HeaderOf(parsed, "Reply-To"), "support@example.com");
  EXPECT_EQ(HeaderOf(parsed, "Message-ID"), "<01HX3Q5Z8K2M4N6P7R9S@example.com>");
  EXPECT_EQ(HeaderOf(parsed, "MIME-Version"), "1.0");
  EXPECT_FALSE(HeaderOf(parsed, "Date").empty());
  EXPECT_EQ(HeaderOf(parsed, "Bcc"), "");

  const json::array& parts = parsed.at("parts").as_array();
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].at("content_type"), "text/plain");
  EXPECT_EQ(parts[0].at("charset"), "utf-8");
  // Line breaks travel as CRLF; Python's parser hands them back as LF.
  EXPECT_EQ(Str(parts[0].at("payload_hex")), Hex(text));
  EXPECT_EQ(parts[1].at("content_type"), "text/html");
  EXPECT_EQ(Str(parts[1].at("payload_hex")), Hex(html));
  EXPECT_EQ(parts[2].at("content_type"), "application/octet-stream");
  EXPECT_EQ(parts[2].at("filename"), "all-bytes.bin");
  EXPECT_EQ(Str(parts[2].at("payload_hex")), Hex(inline_bytes));
  EXPECT_EQ(parts[3].at("content_type"), "application/pdf");
  EXPECT_EQ(parts[3].at("filename"), "Quartalsbericht März.pdf");
  EXPECT_EQ(Str(parts[3].at("payload_hex")), Hex(file_bytes));
}

TEST_F(EmailSmtpTest, DefaultFromAndOneEnvelopeRecipientPerAddress) {
  json::object data = Data();
  data["to"] = json::array{"a@example.com", "A@Example.com"};
  data["bcc"] = "a@example.com";
  const HandlerResult result = RunJob(MakeEmailHandler(Options()), data);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  EXPECT_EQ(json::parse(result.result_json).at("recipients"), 1);
  const auto received = server_->Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].mail_from, "noreply@example.com");
  EXPECT_EQ(received[0].recipients, std::vector<std::string>{"a@example.com"});
  EXPECT_EQ(HeaderOf(ParseEml(received[0].path), "From"), "Task Queue <noreply@example.com>");
}

TEST_F(EmailSmtpTest, RejectedRecipientIsPermanentFailure) {
  json::object data = Data();
  data["to"] = json::array{"ok@example.com", "reject-me@example.com"};
  const HandlerResult result = RunJob(MakeEmailHandler(Options()), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("550"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("no such user"), std::string::npos) << result.message;
  EXPECT_TRUE(server_->Received().empty()) << "no partial delivery";
}

TEST_F(EmailSmtpTest, TemporaryRejectionIsRetried) {
  json::object data = Data();
  data["cc"] = "busy@example.com";
  const HandlerResult result = RunJob(MakeEmailHandler(Options()), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_NE(result.message.find("451"), std::string::npos) << result.message;
  EXPECT_TRUE(server_->Received().empty());
}

TEST_F(EmailSmtpTest, ClosedPortIsRetried) {
  EmailOptions options = Options();
  options.smtp_url = "smtp://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  const HandlerResult result = RunJob(MakeEmailHandler(options), Data());
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_FALSE(result.message.empty());
}

TEST_F(EmailSmtpTest, RequiredStartTlsNotOfferedIsAConfigurationFailure) {
  EmailOptions options = Options();
  options.starttls = true;
  const HandlerResult result = RunJob(MakeEmailHandler(options), Data());
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_TRUE(server_->Received().empty());
}

TEST_F(EmailSmtpTest, InvalidDataFailsWithoutConnecting) {
  json::object data = Data();
  data["subject"] = "Hi\r\nBcc: victim@example.com";
  const HandlerResult result = RunJob(MakeEmailHandler(Options()), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.subject"), std::string::npos) << result.message;
  EXPECT_TRUE(server_->Received().empty());
}

TEST_F(EmailSmtpTest, MissingAttachmentFileFailsNamingTheField) {
  TempDir files;
  EmailOptions options = Options();
  options.attachments_dir = files.path();
  json::object data = Data();
  data["attachments"] = json::array{json::object{{"path", "taskq/report.pdf"}}};
  const HandlerResult result = RunJob(MakeEmailHandler(options), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.attachments[0].path"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("no such file"), std::string::npos) << result.message;
}

// Whoever may enqueue email jobs must not be able to mail themselves the worker's files.
TEST_F(EmailSmtpTest, AttachmentPathsAreRefusedWithoutAnAttachmentsDirectory) {
  json::object data = Data();
  data["attachments"] = json::array{json::object{{"path", "/etc/passwd"}}};
  const HandlerResult result = RunJob(MakeEmailHandler(Options()), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.attachments[0].path"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("--email-attachments-dir"), std::string::npos) << result.message;
  EXPECT_TRUE(server_->Received().empty());
}

TEST_F(EmailSmtpTest, AttachmentPathsStayBelowTheAttachmentsDirectory) {
  TempDir dir;
  const std::string root = dir.path() + "/attachments";
  std::filesystem::create_directories(root + "/reports");
  std::ofstream(dir.path() + "/secret.txt") << "the worker's secret";
  std::ofstream(root + "/reports/q3.txt") << "quarterly figures";
  std::filesystem::create_symlink(dir.path() + "/secret.txt", root + "/link.txt");
  std::filesystem::create_directory_symlink(dir.path(), root + "/up");
  ASSERT_EQ(::mkfifo((root + "/pipe").c_str(), 0600), 0);
  EmailOptions options = Options();
  options.attachments_dir = root;

  const std::vector<std::pair<std::string, std::string>> refused = {
      {"/etc/passwd", "is not below"},
      {"../secret.txt", "is not below"},
      {"reports/../../secret.txt", "is not below"},
      {dir.path() + "/secret.txt", "is not below"},
      {"link.txt", "symlink"},
      {"up/secret.txt", "symlink"},
      {"pipe", "not a regular file"},  // and no hang on open
      {"reports", "not a regular file"},
  };
  for (const auto& [path, why] : refused) {
    json::object data = Data();
    data["attachments"] = json::array{json::object{{"path", path}}};
    const HandlerResult result = RunJob(MakeEmailHandler(options), data);
    EXPECT_EQ(result.kind, HandlerResult::Kind::kFail) << path;
    EXPECT_NE(result.message.find("data.attachments[0].path"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find(why), std::string::npos) << path << ": " << result.message;
  }
  EXPECT_TRUE(server_->Received().empty());

  // Relative to the directory, or absolute below it.
  for (const std::string& path : {std::string("reports/q3.txt"), root + "/reports/q3.txt"}) {
    json::object data = Data();
    data["attachments"] = json::array{json::object{{"path", path}}};
    const HandlerResult result = RunJob(MakeEmailHandler(options), data);
    EXPECT_EQ(result.kind, HandlerResult::Kind::kSuccess) << path << ": " << result.message;
  }
  const std::vector<ReceivedMail> received = server_->Received();
  ASSERT_EQ(received.size(), 2u);
  for (const ReceivedMail& mail : received) {
    EXPECT_EQ(mail.raw.find("secret"), std::string::npos);
    EXPECT_NE(mail.raw.find("q3.txt"), std::string::npos);
  }
}

TEST_F(EmailSmtpTest, AttachmentLimitOfTheHandlerApplies) {
  EmailOptions options = Options();
  options.max_attachment_bytes = 10;
  TempDir files;
  std::ofstream(files.path() + "/big.txt") << "eleven byte";
  json::object data = Data();
  options.attachments_dir = files.path();
  data["attachments"] = json::array{json::object{{"path", "big.txt"}}};
  HandlerResult result = RunJob(MakeEmailHandler(options), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.attachments"), std::string::npos) << result.message;

  data["attachments"] =
      json::array{json::object{{"content", Base64("eleven byte")}, {"filename", "x.txt"}}};
  result = RunJob(MakeEmailHandler(options), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_TRUE(server_->Received().empty());

  // Exactly at the limit, as wrapped base64: the limit is on decoded bytes.
  const std::string ten = Base64("ten bytes!");
  data["attachments"] = json::array{
      json::object{{"content", ten.substr(0, 8) + "\r\n" + ten.substr(8)}, {"filename", "x.txt"}}};
  result = RunJob(MakeEmailHandler(options), data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  EXPECT_EQ(server_->Received().size(), 1u);
}

class EmailAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<SmtpServer>(SmtpServerOptions{.auth = "mailer:s3cret"});
  }
  void TearDown() override { server_.reset(); }
  std::unique_ptr<SmtpServer> server_;
};

TEST_F(EmailAuthTest, LogsInWithConfiguredCredentials) {
  EmailOptions options;
  options.smtp_url = server_->url();
  options.username = "mailer";
  options.password = "s3cret";
  HandlerResult result = RunJob(MakeEmailHandler(options), Data());
  EXPECT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  EXPECT_EQ(server_->Received().size(), 1u);

  options.password = "wrong";
  result = RunJob(MakeEmailHandler(options), Data());
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail) << result.message;
  EXPECT_NE(result.message.find("535"), std::string::npos) << result.message;
  EXPECT_EQ(server_->Received().size(), 1u);
}

TEST(EmailOutboxTest, WritesOneParseableFilePerJobAndRetriesOverwrite) {
  TempDir dir;
  EmailOptions options;
  options.outbox_dir = dir.path() + "/data/outbox";  // created on first use
  const Handler handler = MakeEmailHandler(options);
  json::object data = Data();
  data["html"] = "<p>Hi.</p>";
  data["bcc"] = "hidden@example.com";

  HandlerResult result = RunJob(handler, data, "order:42/../x");
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  const json::value reply = json::parse(result.result_json);
  EXPECT_EQ(reply.at("delivery"), "outbox");
  EXPECT_EQ(reply.at("recipients"), 2);
  const std::string path = Str(reply.at("path"));
  EXPECT_EQ(path, options.outbox_dir + "/order=3A42=2F=2E=2E=2Fx.eml");
  EXPECT_EQ(reply.at("message_id"), "<order=3A42=2F=2E=2E=2Fx@localhost>");

  const json::value parsed = ParseEml(path);
  EXPECT_EQ(parsed.at("defects").as_array().size(), 0u) << parsed.at("defects");
  EXPECT_EQ(HeaderOf(parsed, "From"), "taskq@localhost");
  EXPECT_EQ(HeaderOf(parsed, "To"), "rcpt@example.com");
  EXPECT_EQ(HeaderOf(parsed, "Subject"), "Hello");
  EXPECT_EQ(HeaderOf(parsed, "Bcc"), "");
  EXPECT_EQ(parsed.at("parts").as_array().size(), 2u);

  // A second attempt of the same job replaces the file; no temporary file is left behind.
  data["subject"] = "Hello again";
  result = RunJob(handler, data, "order:42/../x");
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(options.outbox_dir)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"order=3A42=2F=2E=2E=2Fx.eml"});
  EXPECT_EQ(HeaderOf(ParseEml(path), "Subject"), "Hello again");
}

TEST(EmailOutboxTest, UnwritableOutboxIsRetried) {
  TempDir dir;
  std::ofstream(dir.path() + "/file") << "x";
  EmailOptions options;
  options.outbox_dir = dir.path() + "/file/outbox";  // a file stands where a directory should
  const HandlerResult result = RunJob(MakeEmailHandler(options), Data());
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_NE(result.message.find("outbox"), std::string::npos) << result.message;
}

// --- ValidateEmailData ---

void ExpectInvalid(const json::value& data, const std::string& field,
                   const EmailOptions& options = {}) {
  const Status status = ValidateEmailData(json::serialize(data), options);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << json::serialize(data);
  EXPECT_EQ(status.field(), field) << status.ToString();
}

TEST(ValidateEmailDataTest, AcceptsCompleteData) {
  json::object data = Data();
  data["cc"] = json::array{"\"Doe, Jane\" <jane@example.com>"};
  data["from"] = "Zoë <zoe@example.com>";
  data["html"] = "<p>x</p>";
  data["attachments"] = json::array{
      json::object{{"content", "aGVsbG8="},
                   {"filename", "a.txt"},
                   {"content_type", "text/plain; charset=\"utf-8\""}},
      json::object{{"path", "/srv/files/report.pdf"}},  // read only when the job runs
      json::object{{"path", "invoices/42.pdf"}},
  };
  EmailOptions options;
  options.attachments_dir = "/srv/files";
  const Status status = ValidateEmailData(json::serialize(data), options);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST(ValidateEmailDataTest, RefusesAttachmentPathsOutsideTheAttachmentsDirectory) {
  json::object data = Data();
  data["attachments"] = json::array{json::object{{"path", "/srv/files/report.pdf"}}};
  ExpectInvalid(data, "data.attachments[0].path");  // no directory configured: no paths at all
  EmailOptions options;
  options.attachments_dir = "/srv/files";
  for (const char* path : {"/etc/passwd", "../x.pdf", "a/../../x.pdf", "/srv/files", "a/", ""}) {
    data["attachments"] = json::array{json::object{{"path", path}}};
    ExpectInvalid(data, "data.attachments[0].path", options);
  }
}

TEST(ValidateEmailDataTest, ErrorsNameTheField) {
  json::object data = Data();
  data.erase("to");
  ExpectInvalid(data, "data.to");

  data = Data();
  data["to"] = "not-an-address";
  ExpectInvalid(data, "data.to");
  data["to"] = json::array{"a@example.com", "b@exa mple.com"};
  ExpectInvalid(data, "data.to[1]");
  data["to"] = json::array{};
  ExpectInvalid(data, "data.to");
  data["to"] = 42;
  ExpectInvalid(data, "data.to");

  data = Data();
  data["subject"] = "Hello\r\nBcc: victim@example.com";
  ExpectInvalid(data, "data.subject");
  data["subject"] = "Hello\nworld";
  ExpectInvalid(data, "data.subject");
  data["subject"] = std::string(999, 'x');
  ExpectInvalid(data, "data.subject");

  data = Data();
  data["to"] = "Eve\r\nBcc: victim@example.com <eve@example.com>";
  ExpectInvalid(data, "data.to");
  data = Data();
  data["from"] = "me@example.com\r\n";
  ExpectInvalid(data, "data.from");
  data = Data();
  data["cc"] = json::array{"ok@example.com", "x@-bad-.com"};
  ExpectInvalid(data, "data.cc[1]");
  data = Data();
  data["reply_to"] = "a@@example.com";
  ExpectInvalid(data, "data.reply_to");

  data = Data();
  data["attachments"] = json::array{json::object{{"filename", "a.txt"}}};
  ExpectInvalid(data, "data.attachments[0]");
  data["attachments"] =
      json::array{json::object{{"content", "aGVsbG8="}, {"filename", "a.txt"}},
                  json::object{{"content", "not base64!"}, {"filename", "b.txt"}}};
  ExpectInvalid(data, "data.attachments[1].content");
  data["attachments"] =
      json::array{json::object{{"content", "aGVsbG8="}, {"path", "/x"}, {"filename", "a"}}};
  ExpectInvalid(data, "data.attachments[0]");
  data["attachments"] = json::array{json::object{{"content", "aGVsbG8="}}};
  ExpectInvalid(data, "data.attachments[0].filename");
  data["attachments"] =
      json::array{json::object{{"content", "aGVsbG8="}, {"filename", "../etc/passwd"}}};
  ExpectInvalid(data, "data.attachments[0].filename");
  data["attachments"] = json::array{json::object{
      {"content", "aGVsbG8="}, {"filename", "a"}, {"content_type", "text/plain\r\nX-Evil: 1"}}};
  ExpectInvalid(data, "data.attachments[0].content_type");
  data["attachments"] = json::array{json::object{{"path", "relative/file.txt"}}};
  ExpectInvalid(data, "data.attachments[0].path");
  data["attachments"] = json::object{};
  ExpectInvalid(data, "data.attachments");

  data = Data();
  data.erase("text");
  data.erase("html");
  EXPECT_TRUE(ValidateEmailData(json::serialize(data), {}).ok());  // a subject alone is a message
  data = Data();
  data["body"] = "typo for text";
  ExpectInvalid(data, "data.body");
  ExpectInvalid(json::array{}, "data");
  EXPECT_EQ(ValidateEmailData("{not json", {}).field(), "data");
}

TEST(ValidateEmailDataTest, NamesEveryInvalidField) {
  json::object data = Data();
  data["typo"] = 1;
  data["to"] = json::array{"a@example.com", "b@exa mple.com", 7};
  data["from"] = 42;
  data["subject"] = "Hello\r\nBcc: victim@example.com";
  data["attachments"] = json::array{
      json::object{{"content", "not base64!"}, {"content_type", "text/plain\r\nX-Evil: 1"}},
      json::object{{"path", "/srv/files/a.pdf"}}};  // no attachments directory is configured
  const Status status = ValidateEmailData(json::serialize(data), {});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.field(), "data.typo");  // the one a check stopping at the first would name
  EXPECT_EQ(FieldNames(status),
            (std::vector<std::string>{
                "data.typo", "data.to[1]", "data.to[2]", "data.from", "data.subject",
                "data.attachments[0].content", "data.attachments[0].filename",
                "data.attachments[0].content_type", "data.attachments[1].path"}));
}

TEST(ValidateEmailDataTest, ChecksNeedingAnInvalidFieldAreLeftOut) {
  // The total of recipients needs to, cc and bcc: with cc unreadable only cc is named.
  json::array sixty;
  for (int i = 0; i < 60; ++i) sixty.push_back(json::string("r" + std::to_string(i) + "@x.com"));
  json::object data = Data();
  data["to"] = sixty;
  data["bcc"] = sixty;
  data["cc"] = 5;
  EXPECT_EQ(FieldNames(ValidateEmailData(json::serialize(data), {})),
            std::vector<std::string>{"data.cc"});
  // A path that is not valid gives no file name, which is then not asked for.
  data = Data();
  data["attachments"] = json::array{json::object{{"path", 7}}};
  EmailOptions options;
  options.attachments_dir = "/srv/files";
  EXPECT_EQ(FieldNames(ValidateEmailData(json::serialize(data), options)),
            std::vector<std::string>{"data.attachments[0].path"});
}

TEST(ValidateEmailDataTest, LimitsWhatTheClientControls) {
  json::object data = Data();
  json::array many;
  for (int i = 0; i < 101; ++i) many.push_back(json::string("r" + std::to_string(i) + "@x.com"));
  data["to"] = many;
  ExpectInvalid(data, "data.to");

  data = Data();
  many.resize(60);
  data["to"] = many;
  data["bcc"] = many;
  ExpectInvalid(data, "data.to");  // together over 100

  data = Data();
  json::array attachments;
  for (int i = 0; i < 21; ++i) {
    attachments.push_back(json::object{{"content", "eA=="}, {"filename", "x"}});
  }
  data["attachments"] = attachments;
  ExpectInvalid(data, "data.attachments");

  data = Data();
  data["attachments"] = json::array{
      json::object{{"content", Base64(std::string((10 << 20) + 1, 'x'))}, {"filename", "big.bin"}}};
  ExpectInvalid(data, "data.attachments");

  data = Data();
  data["text"] = std::string((2 << 20) + 1, 'x');
  ExpectInvalid(data, "data.text");
}

}  // namespace
}  // namespace taskq::handlers
