#include "handlers/mime_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base64.h"

namespace taskq::handlers {
namespace {

using std::chrono::system_clock;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\r\n", pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return lines;
}

// Every line break is CRLF and no line passes `limit` characters.
void ExpectWellFormedLines(const std::string& text, size_t limit) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ASSERT_TRUE(i > 0 && text[i - 1] == '\r') << "bare LF at " << i;
    }
    if (text[i] == '\r') {
      ASSERT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "bare CR at " << i;
    }
  }
  for (const std::string& line : Lines(text)) {
    EXPECT_LE(line.size(), limit) << line;
  }
}

std::string DecodeQuotedPrintable(const std::string& encoded) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '=') {
      out.push_back(encoded[i]);
    } else if (encoded.compare(i, 3, "=\r\n") == 0) {
      i += 2;
    } else {
      out.push_back(static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    }
  }
  return out;
}

// The text of a header, unfolded, or "" when absent.
std::string Header(const std::string& message, const std::string& name) {
  const std::string head = message.substr(0, message.find("\r\n\r\n") + 2);
  const std::string key = "\r\n" + name + ":";
  size_t pos = ("\r\n" + head).find(key);
  if (pos == std::string::npos) return "";
  pos += name.size() + 1;
  std::string value;
  while (true) {
    size_t end = head.find("\r\n", pos);
    value += head.substr(pos, end - pos);
    pos = end + 2;
    if (pos >= head.size() || (head[pos] != ' ' && head[pos] != '\t')) break;
  }
  return value;
}

// Decodes the "=?UTF-8?B?...?=" words of a header value (whitespace between words dropped).
std::string DecodeEncodedWords(const std::string& value) {
  std::string out;
  size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const size_t start = pos + 10;
    const size_t end = value.find("?=", start);
    auto word = Base64Decode(value.substr(start, end - start));
    EXPECT_TRUE(word.has_value());
    out += word.value_or("");
    pos = end + 2;
  }
  return out;
}

bool IsValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

MailMessage BasicMessage() {
  MailMessage m;
  m.from = {"", "sender@example.com"};
  m.to = {{"", "a@example.com"}};
  m.subject = "Hello";
  m.text = "Hi there.\n";
  m.message_id = "<job1@example.com>";
  m.date = system_clock::from_time_t(1715072703);  // 2024-05-07 09:05:03 UTC
  return m;
}

TEST(QuotedPrintableTest, KeepsPlainAsciiAndEscapesTheRest) {
  EXPECT_EQ(QuotedPrintableEncode("hello world"), "hello world");
  EXPECT_EQ(QuotedPrintableEncode("a=b"), "a=3Db");
  EXPECT_EQ(QuotedPrintableEncode("caf\xC3\xA9"), "caf=C3=A9");
  EXPECT_EQ(QuotedPrintableEncode("tab\there"), "tab\there");
  EXPECT_EQ(QuotedPrintableEncode(std::string("nul\0x", 5)), "nul=00x");
}

TEST(QuotedPrintableTest, LineBreaksBecomeCrlfAndTrailingSpaceIsEncoded) {
  EXPECT_EQ(QuotedPrintableEncode("a\nb"), "a\r\nb");
  EXPECT_EQ(QuotedPrintableEncode("a\r\nb"), "a\r\nb");
  EXPECT_EQ(QuotedPrintableEncode("end \nx\t"), "end=20\r\nx=09");
  EXPECT_EQ(QuotedPrintableEncode("lone\rcr"), "lone=0Dcr");
  EXPECT_EQ(QuotedPrintableEncode("last\n"), "last\r\n");
}

TEST(QuotedPrintableTest, LeadingDotIsEncoded) {
  EXPECT_EQ(QuotedPrintableEncode(".\n.x"), "=2E\r\n=2Ex");
  EXPECT_EQ(QuotedPrintableEncode("a.b"), "a.b");
}

TEST(QuotedPrintableTest, SoftBreaksKeepLinesWithin76AndDecodeBack) {
  std::string text(200, 'a');
  text += "\n";
  for (int i = 0; i < 100; ++i) text += "\xC3\xA9 ";  // escapes straddle the break points
  text += "\n" + std::string(76, 'b') + "\n" + std::string(75, 'c') + " ";
  const std::string encoded = QuotedPrintableEncode(text);
  ExpectWellFormedLines(encoded, 76);
  std::string expected;
  for (char c : text) {
    if (c == '\n') expected += '\r';
    expected += c;
  }
  EXPECT_EQ(DecodeQuotedPrintable(encoded), expected);
  // Exactly 76 characters fit on a line with no soft break.
  EXPECT_NE(encoded.find("\r\n" + std::string(76, 'b') + "\r\n"), std::string::npos);
}

TEST(FormatRfc5322DateTest, FormatsUtc) {
  EXPECT_EQ(FormatRfc5322Date(system_clock::from_time_t(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(FormatRfc5322Date(system_clock::from_time_t(1715072703)),
            "Tue, 07 May 2024 09:05:03 +0000");
}

TEST(BuildMimeMessageTest, TextOnlyIsOneQuotedPrintablePart) {
  auto built = BuildMimeMessage(BasicMessage());
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const std::string& m = *built;
  EXPECT_EQ(m,
            "From: sender@example.com\r\n"
            "To: a@example.com\r\n"
            "Subject: Hello\r\n"
            "Date: Tue, 07 May 2024 09:05:03 +0000\r\n"
            "Message-ID: <job1@example.com>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n"
            "\r\n"
            "Hi there.\r\n");
}

TEST(BuildMimeMessageTest, HtmlOnlyIsOneHtmlPart) {
  MailMessage message = BasicMessage();
  message.text.clear();
  message.html = "<p>Hi</p>";
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(Header(*built, "Content-Type"), " text/html; charset=utf-8");
  EXPECT_TRUE(built->ends_with("\r\n\r\n<p>Hi</p>\r\n"));
}

TEST(BuildMimeMessageTest, TextAndHtmlAreAlternativesTextFirst) {
  MailMessage message = BasicMessage();
  message.html = "<p>Hi there.</p>";
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  const std::string& m = *built;
  EXPECT_EQ(Header(m, "Content-Type"), " multipart/alternative; boundary=\"=_taskq_alt\"");
  const size_t text = m.find("--=_taskq_alt\r\nContent-Type: text/plain; charset=utf-8\r\n");
  const size_t html = m.find("\r\n--=_taskq_alt\r\nContent-Type: text/html; charset=utf-8\r\n");
  ASSERT_NE(text, std::string::npos);
  ASSERT_NE(html, std::string::npos);
  EXPECT_LT(text, html);
  EXPECT_TRUE(m.ends_with("<p>Hi there.</p>\r\n--=_taskq_alt--\r\n"));
  ExpectWellFormedLines(m, 78);
}

TEST(BuildMimeMessageTest, AttachmentsMakeItMixedWithBase64Parts) {
  MailMessage message = BasicMessage();
  message.html = "<b>x</b>";
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes.push_back(static_cast<char>(i % 256));
  message.attachments.push_back({"report.bin", "application/octet-stream", bytes});
  message.attachments.push_back({"notes.txt", "text/plain; charset=utf-8", "abc"});
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  const std::string& m = *built;
  EXPECT_EQ(Header(m, "Content-Type"), " multipart/mixed; boundary=\"=_taskq_mixed\"");
  EXPECT_NE(m.find("--=_taskq_mixed\r\nContent-Type: multipart/alternative;"), std::string::npos);
  const std::string first_head =
      "\r\n--=_taskq_mixed\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "Content-Disposition: attachment; filename=\"report.bin\"\r\n\r\n";
  const size_t start = m.find(first_head);
  ASSERT_NE(start, std::string::npos);
  const size_t body = start + first_head.size();
  const size_t end = m.find("\r\n--=_taskq_mixed", body);
  EXPECT_EQ(Base64Decode(m.substr(body, end - body)), bytes);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: base64\r\n"
                   "Content-Disposition: attachment; filename=\"notes.txt\"\r\n\r\nYWJj\r\n"),
            std::string::npos);
  EXPECT_TRUE(m.ends_with("\r\n--=_taskq_mixed--\r\n"));
  ExpectWellFormedLines(m, 78);
}

TEST(BuildMimeMessageTest, NonAsciiSubjectIsEncodedWithoutSplittingCharacters) {
  MailMessage message = BasicMessage();
  // 3-byte characters, so a naive cut at 42 bytes would fall inside one sometimes.
  std::string subject = "Grüße, ";
  for (int i = 0; i < 40; ++i) subject += "\xE2\x82\xAC";  // €
  message.subject = subject;
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  const std::string value = Header(*built, "Subject");
  EXPECT_EQ(DecodeEncodedWords(value), subject);
  size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const size_t end = value.find("?=", pos + 10);
    EXPECT_TRUE(IsValidUtf8(*Base64Decode(value.substr(pos + 10, end - pos - 10))));
    pos = end;
  }
  ExpectWellFormedLines(built->substr(0, built->find("\r\n\r\n")), 78);
}

TEST(BuildMimeMessageTest, LongAsciiSubjectFoldsAtSpaces) {
  MailMessage message = BasicMessage();
  std::string subject;
  for (int i = 0; i < 30; ++i) subject += (i ? " " : "") + std::string("word") + std::to_string(i);
  message.subject = subject;
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(Header(*built, "Subject"), " " + subject);
  EXPECT_EQ(built->find("=?"), std::string::npos);
  ExpectWellFormedLines(*built, 78);
}

TEST(BuildMimeMessageTest, SubjectLookingLikeAnEncodedWordIsEncoded) {
  MailMessage message = BasicMessage();
  message.subject = "=?UTF-8?B?SGk=?=";
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(DecodeEncodedWords(Header(*built, "Subject")), message.subject);
}

TEST(BuildMimeMessageTest, CrlfInSubjectOrNameCannotStartAHeader) {
  MailMessage message = BasicMessage();
  message.subject = "Hi\r\nBcc: victim@example.com";
  message.to = {{"Eve\r\nBcc: victim@example.com", "a@example.com"}};
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(DecodeEncodedWords(Header(*built, "Subject")), message.subject);
  ExpectWellFormedLines(*built, 78);
}

TEST(BuildMimeMessageTest, RefusesAddressesThatCouldBreakAHeader) {
  for (std::string bad : {"a@example.com\r\nBcc: x@y", "a b@c", "a>@b", "", "a@b,c@d"}) {
    MailMessage message = BasicMessage();
    message.to = {{"", bad}};
    EXPECT_FALSE(BuildMimeMessage(message).ok()) << bad;
  }
  MailMessage message = BasicMessage();
  message.message_id = "<a\r\nb@c>";
  EXPECT_FALSE(BuildMimeMessage(message).ok());
  message = BasicMessage();
  message.attachments.push_back({"x", "text/plain\r\nX-Evil: 1", "x"});
  EXPECT_FALSE(BuildMimeMessage(message).ok());
}

TEST(BuildMimeMessageTest, DisplayNamesPlainWhenAtomsElseEncoded) {
  MailMessage message = BasicMessage();
  message.from = {"Task Queue", "q@example.com"};
  message.to = {{"Doe, \"John\"", "john@example.com"}, {"", "b@example.com"}};
  message.cc = {{"Zoë", "zoe@example.com"}};
  message.reply_to = {{"", "replies@example.com"}};
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(Header(*built, "From"), " Task Queue <q@example.com>");
  const std::string to = Header(*built, "To");
  EXPECT_EQ(DecodeEncodedWords(to), "Doe, \"John\"");
  EXPECT_TRUE(to.ends_with("<john@example.com>, b@example.com")) << to;
  EXPECT_EQ(DecodeEncodedWords(Header(*built, "Cc")), "Zoë");
  EXPECT_EQ(Header(*built, "Reply-To"), " replies@example.com");
}

TEST(BuildMimeMessageTest, ManyRecipientsFoldBetweenAddresses) {
  MailMessage message = BasicMessage();
  message.to.clear();
  for (int i = 0; i < 100; ++i) {
    message.to.push_back({"", "recipient" + std::to_string(i) + "@example.com"});
  }
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  ExpectWellFormedLines(*built, 78);
  const std::string to = Header(*built, "To");
  EXPECT_NE(to.find("recipient0@example.com, recipient1@example.com"), std::string::npos);
  EXPECT_TRUE(to.ends_with("recipient99@example.com"));
}

TEST(BuildMimeMessageTest, NonAsciiOrLongFilenamesUseRfc2231Continuations) {
  MailMessage message = BasicMessage();
  message.attachments.push_back(
      {"Übersicht März \"final\" 2024 – Quartal.pdf", "application/pdf", "%PDF"});
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  const std::string m = *built;
  const size_t start = m.find("Content-Disposition: attachment;");
  ASSERT_NE(start, std::string::npos);
  const std::string value = Header(m.substr(start - 2), "Content-Disposition");
  EXPECT_NE(value.find(" filename*0*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz"), std::string::npos)
      << value;
  EXPECT_NE(value.find("filename*1*="), std::string::npos) << value;
  ExpectWellFormedLines(m, 78);
}

TEST(BuildMimeMessageTest, ShortNonAsciiFilenameIsOneRfc2231Parameter) {
  MailMessage message = BasicMessage();
  message.attachments.push_back({"Übersicht.txt", "text/plain", "x"});
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  EXPECT_NE(built->find("Content-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht.txt\r\n"),
            std::string::npos);
}

TEST(BuildMimeMessageTest, BodyTextThatLooksLikeABoundaryIsEscaped) {
  MailMessage message = BasicMessage();
  message.text = "--=_taskq_alt\n--=_taskq_mixed--\n";
  message.html = "<p>x</p>";
  message.attachments.push_back({"a.txt", "text/plain", "--=_taskq_mixed"});
  auto built = BuildMimeMessage(message);
  ASSERT_TRUE(built.ok());
  size_t count = 0;
  for (const std::string& line : Lines(*built)) {
    if (line.starts_with("--=_taskq_alt")) ++count;
  }
  EXPECT_EQ(count, 3u);  // two delimiters and the close, none from the text
  EXPECT_NE(built->find("--=3D_taskq_alt"), std::string::npos);
}

}  // namespace
}  // namespace taskq::handlers
