#include "handlers/table_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <vector>

namespace taskq::handlers {
namespace {

namespace json = boost::json;

std::string Cell(const json::value& v) {
  std::string out;
  AppendCellText(&out, v);
  return out;
}

std::string Json(const json::value& v) {
  std::string out;
  AppendJsonValue(&out, v);
  return out;
}

TEST(CellTextTest, NumbersInShortestForm) {
  EXPECT_EQ(Cell(json::parse("1.5")), "1.5");
  EXPECT_EQ(Cell(json::parse("0.1")), "0.1");
  EXPECT_EQ(Cell(json::parse("42")), "42");
  EXPECT_EQ(Cell(json::parse("-7")), "-7");
  EXPECT_EQ(Cell(json::parse("18446744073709551615")), "18446744073709551615");
  EXPECT_EQ(Cell(json::parse("1e300")), "1e+300");
  EXPECT_EQ(Cell(json::parse("true")), "true");
  EXPECT_EQ(Cell(json::parse("null")), "");
  EXPECT_EQ(Cell(json::parse("\"a\\\"b\"")), "a\"b");
  EXPECT_EQ(Cell(json::parse("[1,{\"k\":\"v\"}]")), "[1,{\"k\":\"v\"}]");
}

TEST(JsonValueTest, KeepsTypes) {
  EXPECT_EQ(Json(json::parse("null")), "null");
  EXPECT_EQ(Json(json::parse("\"line\\nbreak\"")), "\"line\\nbreak\"");
  EXPECT_EQ(Json(json::parse("2.5")), "2.5");
  EXPECT_EQ(Json(json::parse("false")), "false");
}

class TableWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/taskq-table-writer-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
  }
  void TearDown() override {
    ::unlink((dir_ + "/out").c_str());
    ::rmdir(dir_.c_str());
  }

  std::string Write(ExportFormat format) {
    auto writer = OpenTableWriter(format, dir_ + "/out");
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    const std::vector<std::string> columns = {"name", "n", "note"};
    EXPECT_TRUE((*writer)->WriteHeader(columns).ok());
    std::vector<json::value> row = {json::string("a,b"), 1.5, nullptr};
    EXPECT_TRUE((*writer)->WriteRow(row).ok());
    row = {json::string("x"), 2, json::string("q\"")};
    EXPECT_TRUE((*writer)->WriteRow(row).ok());
    EXPECT_TRUE((*writer)->Finish().ok());
    std::ifstream in(dir_ + "/out", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string dir_;
};

TEST_F(TableWriterTest, Csv) {
  EXPECT_EQ(Write(ExportFormat::kCsv), "name,n,note\r\n\"a,b\",1.5,\r\nx,2,\"q\"\"\"\r\n");
}

TEST_F(TableWriterTest, Ndjson) {
  EXPECT_EQ(
      Write(ExportFormat::kNdjson),
      "{\"name\":\"a,b\",\"n\":1.5,\"note\":null}\n{\"name\":\"x\",\"n\":2,\"note\":\"q\\\"\"}\n");
}

TEST_F(TableWriterTest, XlsxIsAZipFile) {
  const std::string bytes = Write(ExportFormat::kXlsx);
  ASSERT_GT(bytes.size(), 4u);
  EXPECT_EQ(bytes.substr(0, 4), std::string("PK\x03\x04", 4));
}

TEST_F(TableWriterTest, XlsxRefusesOverlongAndNulStrings) {
  auto writer = OpenTableWriter(ExportFormat::kXlsx, dir_ + "/out");
  ASSERT_TRUE(writer.ok());
  const std::vector<std::string> columns = {"a", "b"};
  ASSERT_TRUE((*writer)->WriteHeader(columns).ok());
  std::vector<json::value> row = {json::string(std::string(32767, 'x')),
                                  json::string(std::string(32768, 'x'))};
  Status s = (*writer)->WriteRow(row);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "column 2");
  row = {json::string(std::string("a\0b", 3)), nullptr};
  EXPECT_EQ((*writer)->WriteRow(row).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace taskq::handlers
