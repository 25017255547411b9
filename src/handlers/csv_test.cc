#include "handlers/csv.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace taskq::handlers {
namespace {

using Records = std::vector<std::vector<std::string>>;

Records ReadAll(const std::string& text, CsvReaderOptions options = {}) {
  std::istringstream in(text);
  CsvReader reader(in, options);
  Records records;
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.Next(&fields);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) return records;
    records.push_back(fields);
  }
}

Status ReadError(const std::string& text, CsvReaderOptions options = {}) {
  std::istringstream in(text);
  CsvReader reader(in, options);
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.Next(&fields);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
  }
}

TEST(CsvFieldTest, QuotesOnlyWhatNeedsIt) {
  auto field = [](std::string_view s) {
    std::string out;
    AppendCsvField(&out, s);
    return out;
  };
  EXPECT_EQ(field("plain"), "plain");
  EXPECT_EQ(field(""), "");
  EXPECT_EQ(field("12.5"), "12.5");
  EXPECT_EQ(field("a,b"), "\"a,b\"");
  EXPECT_EQ(field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(field("line\r\nbreak"), "\"line\r\nbreak\"");
  EXPECT_EQ(field("lf\n"), "\"lf\n\"");
  EXPECT_EQ(field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(field(" spaced "), " spaced ");  // spaces are data in RFC 4180
  EXPECT_EQ(field("Zoë"), "Zoë");
}

TEST(CsvRecordTest, SeparatesWithCommasAndEndsWithCrlf) {
  std::string out;
  AppendCsvRecord(&out, std::vector<std::string>{"a", "", "b,c"});
  AppendCsvRecord(&out, std::vector<std::string>{""});
  EXPECT_EQ(out, "a,,\"b,c\"\r\n\r\n");
}

TEST(CsvReaderTest, ReadsBackWhatTheWriterWrites) {
  const Records records = {{"id", "text", "empty"},
                           {"1", "quote \" inside", ""},
                           {"2", "comma, and\r\nCRLF", "x"},
                           {"3", "bare\nLF and bare\rCR", "\"\""},
                           {"4", "ünïcødé ✓", ","}};
  std::string text;
  for (const auto& r : records) AppendCsvRecord(&text, r);
  EXPECT_EQ(ReadAll(text), records);
}

TEST(CsvReaderTest, AcceptsLfEndingsAndAMissingFinalBreak) {
  EXPECT_EQ(ReadAll("a,b\nc,d"), (Records{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(ReadAll("a,b\r\n"), (Records{{"a", "b"}}));
  EXPECT_EQ(ReadAll(""), Records{});
}

TEST(CsvReaderTest, EmptyFieldsAndBlankLines) {
  EXPECT_EQ(ReadAll(",\r\n\r\n\"\"\r\n"), (Records{{"", ""}, {""}, {""}}));
}

TEST(CsvReaderTest, CountsLinesInsideQuotedFields) {
  std::istringstream in("h\r\n\"a\nb\nc\"\r\nnext\r\n");
  CsvReader reader(in);
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 1);
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 2);
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 5);
  EXPECT_EQ(fields, std::vector<std::string>{"next"});
}

TEST(CsvReaderTest, RefusesMalformedQuoting) {
  Status unterminated = ReadError("a\r\n\"open\r\n");
  EXPECT_EQ(unterminated.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unterminated.field(), "line 2");
  EXPECT_EQ(ReadError("ab\"c\r\n").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadError("\"ab\"c\r\n").code(), StatusCode::kInvalidArgument);
}

TEST(CsvReaderTest, BoundsRecordSizeAndFieldCount) {
  EXPECT_EQ(ReadError(std::string(100, 'x') + "\r\n", {.max_record_bytes = 50}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadError("a,b,c,d\r\n", {.max_fields = 3}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ReadError("a,b,c\r\n", {.max_fields = 3}).ok());
}

}  // namespace
}  // namespace taskq::handlers
