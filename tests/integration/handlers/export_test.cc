// The export job type against a real file system and a real redis-server. Written files are read
// back by independent code: Python's csv module for CSV, zipfile and an XML parser for XLSX
// (tests/testing/read_table.py), Boost.JSON for NDJSON.
// Over 600 lines: one file per handler, as for every handler; the three formats share one fixture
// and one set of oracles, which a split would repeat.
#include "handlers/export.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/field_errors.h"
#include "common/sanitizers.h"
#include "taskq/client.h"
#include "taskq/inspector.h"
#include "taskq/worker.h"
#include "testing/fake_job_context.h"
#include "testing/handler_outcome.h"
#include "testing/redis_server.h"
#include "testing/smtp_server.h"
#include "testing/wait.h"

namespace taskq::handlers {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::taskq::testing::FakeJobContext;
using ::taskq::testing::SuccessObjectOf;
using ::taskq::testing::TempDir;

std::string RunCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command;
  return output;
}

// The rows of a CSV or XLSX file as read_table.py sees them.
json::array ReadTable(const std::string& kind, const std::string& path) {
  const std::string output = RunCommand(std::string("/usr/bin/python3 ") + TASKQ_READ_TABLE_SCRIPT +
                                        " " + kind + " '" + path + "'");
  boost::system::error_code ec;
  json::value parsed = json::parse(output, ec);
  EXPECT_FALSE(ec) << output.substr(0, 500);
  return ec ? json::array() : parsed.at("rows").as_array();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A field of /proc/self/status in KiB ("VmRSS", "VmHWM"), or -1.
int64_t ProcStatusKib(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(name + ":")) return std::stoll(line.substr(name.size() + 1));
  }
  return -1;
}

// Measures how far resident memory rose above where it stood at construction while the object
// lived. The peak (VmHWM) is reset first where the kernel allows it (clear_refs "5"), so an
// earlier, higher peak of this process cannot hide the growth; otherwise ru_maxrss is compared,
// which can only under-report when an earlier test peaked higher.
class PeakRssMeter {
 public:
  PeakRssMeter() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    reset_ = clear.good();
    before_kib_ = reset_ ? ProcStatusKib("VmRSS") : MaxRssKib();
  }
  int64_t GrowthKib() const {
    return (reset_ ? ProcStatusKib("VmHWM") : MaxRssKib()) - before_kib_;
  }
  bool peak_was_reset() const { return reset_; }

 private:
  static int64_t MaxRssKib() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;  // KiB on Linux
  }
  bool reset_ = false;
  int64_t before_kib_ = 0;
};

// ASan keeps freed memory in quarantine: RSS says nothing under it.
constexpr bool kSanitized = kAddressSanitizer;

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.exports_dir = dir_.path() + "/exports";
    options_.input_root = dir_.path() + "/imports";
    fs::create_directories(options_.input_root);
    fs::create_directories(dir_.path() + "/outside");
  }

  HandlerResult Run(const json::object& data, FakeJobContext* ctx = nullptr) {
    FakeJobContext local("export", json::serialize(data));
    FakeJobContext& c = ctx ? *ctx : local;
    return MakeExportHandler(options_)(c);
  }

  // Runs a job that must succeed; returns its result.
  json::object RunOk(const json::object& data) { return SuccessObjectOf(Run(data)); }

  // Files in the exports directory, recursively (temporary files included).
  std::set<std::string> ExportedFiles() {
    std::set<std::string> names;
    if (!fs::exists(options_.exports_dir)) return names;
    for (const auto& entry : fs::recursive_directory_iterator(options_.exports_dir)) {
      if (!entry.is_directory()) {
        names.insert(fs::relative(entry.path(), options_.exports_dir).string());
      }
    }
    return names;
  }

  TempDir dir_;
  ExportOptions options_;
};

// Values that break naive CSV writers and readers, with what a CSV cell shows for each.
struct Tricky {
  json::value value;
  std::string as_text;
};

std::vector<Tricky> TrickyValues() {
  return {{json::string("plain"), "plain"},
          {json::string("say \"hi\""), "say \"hi\""},
          {json::string("a,b,c"), "a,b,c"},
          {json::string("crlf\r\nlf\ncr\rend"), "crlf\r\nlf\ncr\rend"},
          {json::string("ünïcødé ✓ 日本語 🎉"), "ünïcødé ✓ 日本語 🎉"},
          {json::string(""), ""},
          {nullptr, ""},
          {42, "42"},
          {-1.5, "-1.5"},
          {json::value(1e300), "1e+300"},
          {json::value(9007199254740993LL), "9007199254740993"},
          {true, "true"},
          {json::string(" leading and trailing "), " leading and trailing "},
          {json::parse("{\"k\":[1,\"x\"]}"), "{\"k\":[1,\"x\"]}"}};
}

json::object TrickyData(const std::string& format, const std::string& output) {
  json::array rows;
  int i = 0;
  for (const Tricky& t : TrickyValues()) {
    rows.push_back(json::object{{"id", i++}, {"value", t.value}, {"after", "end"}});
  }
  return {{"format", format}, {"source", {{"rows", rows}}}, {"output", output}};
}

TEST_F(ExportTest, CsvRoundTripsTrickyValuesThroughPythonsCsvModule) {
  json::object result = RunOk(TrickyData("csv", "tricky.csv"));
  const std::string path = std::string(result.at("path").as_string());
  EXPECT_EQ(path, fs::canonical(options_.exports_dir).string() + "/tricky.csv");
  const std::vector<Tricky> tricky = TrickyValues();
  EXPECT_EQ(result.at("rows").as_int64(), static_cast<int64_t>(tricky.size()));

  json::array rows = ReadTable("csv", path);
  ASSERT_EQ(rows.size(), tricky.size() + 1);
  EXPECT_EQ(rows[0], json::parse(R"(["id","value","after"])"));
  for (size_t i = 0; i < tricky.size(); ++i) {
    const json::array& row = rows[i + 1].as_array();
    ASSERT_EQ(row.size(), 3u) << i;
    EXPECT_EQ(row[0].as_string(), std::to_string(i));
    EXPECT_EQ(row[1].as_string(), tricky[i].as_text) << i;
    EXPECT_EQ(row[2].as_string(), "end");
  }
  // RFC 4180: every record ends with CRLF (line breaks inside values are quoted, not records).
  const std::string raw = ReadFile(path);
  EXPECT_TRUE(raw.starts_with("id,value,after\r\n"));
  EXPECT_TRUE(raw.ends_with(",end\r\n"));
  EXPECT_NE(raw.find("\"say \"\"hi\"\"\""), std::string::npos);
}

TEST_F(ExportTest, NdjsonKeepsValuesAndTypes) {
  json::object result = RunOk(TrickyData("ndjson", "tricky.ndjson"));
  std::istringstream lines(ReadFile(std::string(result.at("path").as_string())));
  const std::vector<Tricky> tricky = TrickyValues();
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(i, tricky.size());
    json::object row = json::parse(line).as_object();
    EXPECT_EQ(row.size(), 3u);
    EXPECT_EQ(row.at("id"), json::value(static_cast<int64_t>(i)));
    const json::value& value = row.at("value");
    if (tricky[i].value.is_number()) {
      EXPECT_EQ(value.to_number<double>(), tricky[i].value.to_number<double>()) << line;
    } else {
      EXPECT_EQ(value, tricky[i].value) << line;
    }
    ++i;
  }
  EXPECT_EQ(i, tricky.size());
}

TEST_F(ExportTest, XlsxOpensAndHoldsTheRows) {
  json::object result = RunOk(TrickyData("xlsx", "reports/tricky.xlsx"));
  const std::string path = std::string(result.at("path").as_string());
  EXPECT_TRUE(path.ends_with("/exports/reports/tricky.xlsx"));
  json::array rows = ReadTable("xlsx", path);
  const std::vector<Tricky> tricky = TrickyValues();
  ASSERT_EQ(rows.size(), tricky.size() + 1);
  EXPECT_EQ(rows[0], json::parse(R"(["id","value","after"])"));
  for (size_t i = 0; i < tricky.size(); ++i) {
    const json::array& row = rows[i + 1].as_array();
    EXPECT_EQ(row[0].to_number<double>(), static_cast<double>(i));
    const json::value& want = tricky[i].value;
    const json::value& got = row[1];
    if (want.is_null() || want == json::string("")) {
      EXPECT_TRUE(got.is_null()) << i;  // an empty string is an empty cell in XLSX
    } else if (want.is_bool()) {
      EXPECT_EQ(got, want) << i;
    } else if (want.is_double() || (want.is_int64() && want.get_int64() < (1LL << 53))) {
      EXPECT_EQ(got.to_number<double>(), want.to_number<double>()) << i;
    } else {
      // Strings, and integers a double cannot hold exactly (kept as text).
      EXPECT_EQ(got.as_string(), tricky[i].as_text) << i;
    }
    EXPECT_EQ(row[2].as_string(), "end");
  }
}

TEST_F(ExportTest, ResultCarriesSizeAndSha256OfTheFile) {
  json::object result = RunOk(TrickyData("csv", "sum.csv"));
  const std::string path = std::string(result.at("path").as_string());
  EXPECT_EQ(result.at("bytes").as_int64(), static_cast<int64_t>(fs::file_size(path)));
  const std::string sha = RunCommand("sha256sum '" + path + "'").substr(0, 64);
  EXPECT_EQ(result.at("sha256").as_string(), sha);
  EXPECT_EQ(ExportedFiles(), std::set<std::string>{"sum.csv"});  // no temporary file left
}

TEST_F(ExportTest, ColumnsPickAndOrderObjectKeys) {
  json::object data = {
      {"format", "csv"},
      {"source", {{"rows", json::parse(R"([{"a":1,"b":2,"c":3},{"c":6,"a":4,"x":0}])")}}},
      {"columns", {"c", "a", "missing"}},
      {"output", "picked.csv"}};
  json::object result = RunOk(data);
  EXPECT_EQ(ReadFile(std::string(result.at("path").as_string())),
            "c,a,missing\r\n3,1,\r\n6,4,\r\n");
}

TEST_F(ExportTest, DefaultColumnsAreTheKeysOfTheFirstRow) {
  json::object data = {{"format", "csv"},
                       {"source", {{"rows", json::parse(R"([{"b":1,"a":2},{"a":3,"z":9}])")}}},
                       {"output", "first.csv"}};
  json::object result = RunOk(data);
  EXPECT_EQ(ReadFile(std::string(result.at("path").as_string())), "b,a\r\n1,2\r\n,3\r\n");
}

TEST_F(ExportTest, ArrayRowsTakeTheFirstRowAsHeaderUnlessColumnsAreGiven) {
  json::object data = {{"format", "csv"},
                       {"source", {{"rows", json::parse(R"([["x","y"],[1,2],[3,4]])")}}},
                       {"output", "arrays.csv"}};
  json::object result = RunOk(data);
  EXPECT_EQ(result.at("rows").as_int64(), 2);
  EXPECT_EQ(ReadFile(std::string(result.at("path").as_string())), "x,y\r\n1,2\r\n3,4\r\n");

  data["columns"] = {"p", "q"};
  data["output"] = "named.csv";
  result = RunOk(data);
  EXPECT_EQ(result.at("rows").as_int64(), 3);
}

TEST_F(ExportTest, ARowOfTheWrongWidthFailsNamingIt) {
  json::object data = {{"format", "csv"},
                       {"source", {{"rows", json::parse(R"([[1,2],[3,4],[5]])")}}},
                       {"columns", {"a", "b"}},
                       {"output", "bad.csv"}};
  HandlerResult result = Run(data);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.source.rows[2]"), std::string::npos) << result.message;
  EXPECT_EQ(ExportedFiles(), std::set<std::string>{});  // the partial file is gone
}

TEST_F(ExportTest, ValidationNamesTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([])", "data"},
      {R"({"source":{"rows":[]},"output":"a.csv"})", "data.format"},
      {R"({"format":"pdf","source":{"rows":[]},"output":"a.csv"})", "data.format"},
      {R"({"format":"csv","output":"a.csv"})", "data.source"},
      {R"({"format":"csv","source":{"rows":[],"queue":"q"},"output":"a.csv"})", "data.source"},
      {R"({"format":"csv","source":{"rows":[[1],2]},"output":"a.csv"})", "data.source.rows[1]"},
      {R"({"format":"csv","source":{"rows":[],"extra":1},"output":"a.csv"})", "data.source.extra"},
      {R"({"format":"csv","source":{"file":"in.txt"},"output":"a.csv"})", "data.source.format"},
      {R"({"format":"csv","source":{"file":"in.csv","format":"xlsx"},"output":"a.csv"})",
       "data.source.format"},
      {R"({"format":"csv","source":{"queue":""},"output":"a.csv"})", "data.source.queue"},
      {R"({"format":"csv","source":{"queue":"q","state":"done"},"output":"a.csv"})",
       "data.source.state"},
      {R"({"format":"csv","source":{"queue":"q","from_ms":-1},"output":"a.csv"})",
       "data.source.from_ms"},
      {R"({"format":"csv","source":{"queue":"q","from_ms":5,"to_ms":4},"output":"a.csv"})",
       "data.source.to_ms"},
      {R"({"format":"csv","source":{"queue":"q"},"columns":["id","nope"],"output":"a.csv"})",
       "data.columns[1]"},
      {R"({"format":"csv","source":{"rows":[]},"columns":["a","b","a"],"output":"a.csv"})",
       "data.columns[2]"},
      {R"({"format":"csv","source":{"rows":[]},"columns":["a",7],"output":"a.csv"})",
       "data.columns[1]"},
      {R"({"format":"csv","source":{"rows":[]}})", "data.output"},
      {R"({"format":"csv","source":{"rows":[]},"output":"/etc/cron.d/x"})", "data.output"},
      {R"({"format":"csv","source":{"rows":[]},"output":"../x.csv"})", "data.output"},
      {R"({"format":"csv","source":{"rows":[]},"output":"a/../../x.csv"})", "data.output"},
      {R"({"format":"csv","source":{"rows":[]},"output":"dir/"})", "data.output"},
      {R"({"format":"csv","source":{"rows":[]},"output":"a.csv","body":1})", "data.body"},
  };
  for (const auto& [data, field] : cases) {
    Status s = ValidateExportData(data);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << data;
    EXPECT_EQ(s.field(), field) << data << " -> " << s.ToString();
  }
  EXPECT_TRUE(ValidateExportData(R"({"format":"xlsx","source":{"queue":"q","state":"dead",
      "from_ms":0,"to_ms":10},"columns":["id","error"],"output":"d/x.xlsx"})")
                  .ok());
  json::array too_many;
  for (int i = 0; i < 10001; ++i) too_many.push_back(json::array{i});
  Status s = ValidateExportData(json::serialize(
      json::object{{"format", "csv"}, {"source", {{"rows", too_many}}}, {"output", "a.csv"}}));
  EXPECT_EQ(s.field(), "data.source.rows");
}

TEST_F(ExportTest, ValidationNamesEveryInvalidField) {
  Status s = ValidateExportData(R"({"format":"pdf",
      "source":{"queue":"","state":"done","from_ms":5,"to_ms":4,"x":1},
      "columns":["id","nope",7,"id"],"output":"../x.csv"})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldNames(s),
            (std::vector<std::string>{"data.format", "data.source.x", "data.source.queue",
                                      "data.source.state", "data.source.to_ms", "data.columns[1]",
                                      "data.columns[2]", "data.columns[3]", "data.output"}));
  s = ValidateExportData(
      R"({"format":"csv","source":{"file":"","format":"xlsx"},"output":"a.csv"})");
  EXPECT_EQ(FieldNames(s), (std::vector<std::string>{"data.source.file", "data.source.format"}));
  // Without a format the file's name would tell it; an invalid file leaves that unchecked.
  s = ValidateExportData(R"({"format":"csv","source":{"file":7},"output":"a.csv"})");
  EXPECT_EQ(FieldNames(s), std::vector<std::string>{"data.source.file"});
  // Only a queue source limits the columns to job fields; an invalid source limits nothing.
  s = ValidateExportData(R"({"format":"csv","source":{"rows":[],"file":"a.csv"},
      "columns":["nope"],"output":"a.csv"})");
  EXPECT_EQ(FieldNames(s), std::vector<std::string>{"data.source"});
}

TEST_F(ExportTest, RefusesOutputPathsLeavingTheExportsDirectory) {
  fs::create_directories(options_.exports_dir);
  fs::create_directory_symlink(dir_.path() + "/outside", options_.exports_dir + "/escape");
  fs::create_symlink(dir_.path() + "/outside/target.csv", options_.exports_dir + "/link.csv");
  for (const char* output : {"/tmp/x.csv", "../outside/x.csv", "escape/x.csv", "link.csv",
                             "escape/../../outside/y.csv"}) {
    json::object data = {
        {"format", "csv"}, {"source", {{"rows", json::parse(R"([{"a":1}])")}}}, {"output", output}};
    HandlerResult result = Run(data);
    EXPECT_EQ(result.kind, HandlerResult::Kind::kFail) << output;
    EXPECT_NE(result.message.find("data.output"), std::string::npos) << result.message;
  }
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/outside"));
}

// The input is opened once, without following links, and read through that descriptor: a FIFO
// (which would block an open by name forever) or a link is refused, never read.
TEST_F(ExportTest, InputThatIsNotARegularFileIsRefusedWithoutBlocking) {
  fs::create_directories(options_.input_root + "/sub");
  fs::create_directories(options_.input_root + "/dir.csv");
  ASSERT_EQ(::mkfifo((options_.input_root + "/pipe.csv").c_str(), 0600), 0);
  std::ofstream(options_.input_root + "/sub/real.csv") << "a\n1\n";
  fs::create_directory_symlink(options_.input_root + "/sub", options_.input_root + "/alias");
  for (const char* file : {"pipe.csv", "dir.csv", "alias/real.csv"}) {
    json::object data = {{"format", "csv"}, {"source", {{"file", file}}}, {"output", "o.csv"}};
    HandlerResult result = Run(data);
    EXPECT_EQ(result.kind, HandlerResult::Kind::kFail) << file;
    EXPECT_NE(result.message.find("data.source.file"), std::string::npos) << result.message;
  }
  json::object data = {
      {"format", "csv"}, {"source", {{"file", "sub/real.csv"}}}, {"output", "o.csv"}};
  EXPECT_EQ(ReadFile(std::string(RunOk(data).at("path").as_string())), "a\r\n1\r\n");
}

TEST_F(ExportTest, ReadsCsvFilesBelowTheInputRootOnly) {
  std::ofstream(options_.input_root + "/in.csv", std::ios::binary)
      << "name,note\r\n\"Doe, Jane\",\"said \"\"hi\"\"\r\nbye\"\r\nZoë,\r\n";
  json::object data = {{"format", "ndjson"},
                       {"source", {{"file", "in.csv"}}},
                       {"columns", {"note", "name"}},
                       {"output", "from-csv.ndjson"}};
  json::object result = RunOk(data);
  EXPECT_EQ(ReadFile(std::string(result.at("path").as_string())),
            "{\"note\":\"said \\\"hi\\\"\\r\\nbye\",\"name\":\"Doe, Jane\"}\n"
            "{\"note\":\"\",\"name\":\"Zoë\"}\n");

  // The same file by absolute path is fine; files outside the root are not, nor links out.
  data["source"] = {{"file", options_.input_root + "/in.csv"}};
  RunOk(data);
  std::ofstream(dir_.path() + "/outside/secret.csv") << "a\r\n1\r\n";
  fs::create_symlink(dir_.path() + "/outside/secret.csv", options_.input_root + "/link.csv");
  for (const std::string& file :
       {dir_.path() + "/outside/secret.csv", std::string("link.csv"),
        options_.input_root + "/../outside/secret.csv", std::string("../outside/secret.csv")}) {
    data["source"] = {{"file", file}};
    data.erase("columns");
    HandlerResult refused = Run(data);
    EXPECT_EQ(refused.kind, HandlerResult::Kind::kFail) << file;
    EXPECT_NE(refused.message.find("data.source.file"), std::string::npos) << refused.message;
  }

  data["source"] = {{"file", "in.csv"}};
  data["columns"] = {"name", "age"};
  HandlerResult unknown = Run(data);
  EXPECT_EQ(unknown.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(unknown.message.find("data.columns[1]"), std::string::npos) << unknown.message;
}

TEST_F(ExportTest, StopsEarlyWhenAskedAndLeavesNoFile) {
  {
    std::ofstream out(options_.input_root + "/big.ndjson");
    for (int i = 0; i < 50000; ++i) out << "{\"i\":" << i << "}\n";
  }
  FakeJobContext ctx("export", json::serialize(json::object{{"format", "csv"},
                                                            {"source", {{"file", "big.ndjson"}}},
                                                            {"output", "stopped.csv"}}));
  ctx.stop_after_progress = 2;  // after 20,000 rows
  HandlerResult result = Run({}, &ctx);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_NE(result.message.find("stopped"), std::string::npos) << result.message;
  EXPECT_EQ(ctx.progress.size(), 2u);
  EXPECT_EQ(ExportedFiles(), std::set<std::string>{});
}

// The streaming contract: a million rows go through with memory that does not grow with them.
TEST_F(ExportTest, MillionRowNdjsonFileExportKeepsMemoryBounded) {
  const int64_t kRows = 1000000;
  {
    std::ofstream out(options_.input_root + "/million.ndjson");
    for (int64_t i = 0; i < kRows; ++i) {
      out << "{\"id\":" << i << ",\"name\":\"user " << i
          << "\",\"note\":\"quote \\\" and, comma\",\"score\":" << (i % 1000) / 8.0 << "}\n";
    }
  }
  const std::string data = json::serialize(json::object{
      {"format", "csv"}, {"source", {{"file", "million.ndjson"}}}, {"output", "million.csv"}});
  FakeJobContext ctx("export", data);
  const PeakRssMeter meter;
  HandlerResult result = MakeExportHandler(options_)(ctx);
  const int64_t delta_kib = meter.GrowthKib();
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  json::object out = json::parse(result.result_json).as_object();
  EXPECT_EQ(out.at("rows").as_int64(), kRows);
  EXPECT_EQ(ctx.progress.size(), static_cast<size_t>(kRows / 10000 + 1));
  EXPECT_EQ(ctx.progress.back(), "{\"rows\":1000000}");
  std::printf("[ measure  ] 1,000,000 rows NDJSON -> CSV (%lld bytes): peak RSS +%lld KiB%s\n",
              static_cast<long long>(out.at("bytes").as_int64()), static_cast<long long>(delta_kib),
              meter.peak_was_reset() ? "" : " (ru_maxrss)");
  RecordProperty("peak_rss_delta_kib", std::to_string(delta_kib));
  if (!kSanitized) {
    EXPECT_LT(delta_kib, 64 * 1024);
  }

  // The last line, read without loading the file.
  std::ifstream in(std::string(out.at("path").as_string()), std::ios::binary);
  in.seekg(-64, std::ios::end);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(tail.ends_with("999999,user 999999,\"quote \"\" and, comma\",124.875\r\n")) << tail;
}

// XLSX in constant_memory mode: the whole sheet goes through with flat memory, and one row past
// Excel's limit fails clearly instead of writing a file Excel cannot open.
TEST_F(ExportTest, XlsxFailsBeyondTheSheetRowLimit) {
  {
    std::ofstream out(options_.input_root + "/rows.ndjson");
    for (int64_t i = 0; i <= 1048575; ++i) out << "[" << i << "]\n";
  }
  json::object data = {{"format", "xlsx"},
                       {"source", {{"file", "rows.ndjson"}}},
                       {"columns", {"n"}},
                       {"output", "too-many.xlsx"}};
  const PeakRssMeter meter;
  HandlerResult result = Run(data);
  const int64_t delta_kib = meter.GrowthKib();
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("1,048,576 rows"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("row 1048576"), std::string::npos) << result.message;
  std::printf("[ measure  ] 1,048,575 rows NDJSON -> XLSX: peak RSS grew by %lld KiB\n",
              static_cast<long long>(delta_kib));
  if (!kSanitized) {
    EXPECT_LT(delta_kib, 64 * 1024);
  }
  EXPECT_EQ(ExportedFiles(), std::set<std::string>{});
}

// ----------------------------------------------------------------------------------------------
// Job history, from a real redis-server: jobs enqueued with Client, run by a Worker.

class ExportHistoryTest : public ExportTest {
 protected:
  void SetUp() override {
    ExportTest::SetUp();
    server_ = std::make_unique<testing::RedisServer>();
    client_ = std::move(*Client::Open({server_->url()}));
    options_.redis_url = server_->url();
  }

  WorkerOptions Options(const std::string& queues) {
    WorkerOptions o;
    o.redis_url = server_->url();
    o.queues = *ParseQueueList(queues);
    o.shutdown_grace = std::chrono::milliseconds(2000);
    return o;
  }

  std::unique_ptr<testing::RedisServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ExportHistoryTest, ExportsCompletedAndDeadJobsPageByPage) {
  constexpr int kJobs = 230;  // more than two pages of 100
  Worker worker(Options("work=4"));
  worker.Register("t", [](JobContext& ctx) {
    const json::value data = json::parse(ctx.data_json());
    if (data.at("n").as_int64() % 10 == 0) return HandlerResult::Fail("multiple of ten");
    return HandlerResult::Success("{\"double\":" + std::to_string(2 * data.at("n").as_int64()) +
                                  "}");
  });
  ASSERT_TRUE(worker.Start().ok());
  std::set<std::string> completed_ids;
  for (int i = 0; i < kJobs; ++i) {
    EnqueueRequest request{"t", "{\"n\":" + std::to_string(i) + "}", {}};
    request.options.queue = "work";
    request.options.max_attempts = 1;
    auto enqueued = client_->Enqueue(request);
    ASSERT_TRUE(enqueued.ok()) << enqueued.status().ToString();
    if (i % 10 != 0) completed_ids.insert(enqueued->id);
  }
  auto inspector = std::move(*Inspector::Open({server_->url()}));
  ASSERT_TRUE(testing::WaitUntil([&] {
    auto counts = inspector->Counts("work");
    return counts.ok() && counts->completed + counts->dead == kJobs;
  }));

  // The export itself runs as a job, on a worker of its own queue.
  worker.Stop();
  Worker exporter(Options("exports=1"));
  exporter.Register("export", MakeExportHandler(options_));
  ASSERT_TRUE(exporter.Start().ok());
  EnqueueRequest request{
      "export",
      json::serialize(json::object{{"format", "ndjson"},
                                   {"source", {{"queue", "work"}, {"state", "completed"}}},
                                   {"columns", {"id", "state", "data", "result", "finished_ms"}},
                                   {"output", "history/completed.ndjson"}}),
      {}};
  request.options.queue = "exports";
  auto enqueued = client_->Enqueue(request);
  ASSERT_TRUE(enqueued.ok());
  std::optional<Job> job;
  ASSERT_TRUE(testing::WaitUntil([&] {
    auto got = client_->Get("exports", enqueued->id);
    if (got.ok() && got->has_value() && (*got)->state == JobState::kCompleted) job = **got;
    return job.has_value();
  }));
  exporter.Stop();
  json::object result = json::parse(job->result_json).as_object();
  EXPECT_EQ(result.at("rows").as_int64(), static_cast<int64_t>(completed_ids.size()));

  std::istringstream lines(ReadFile(std::string(result.at("path").as_string())));
  std::string line;
  std::set<std::string> seen;
  int64_t previous_finished = std::numeric_limits<int64_t>::max();
  while (std::getline(lines, line)) {
    json::object row = json::parse(line).as_object();
    EXPECT_EQ(row.at("state"), "completed");
    const int64_t n = row.at("data").at("n").as_int64();
    EXPECT_EQ(row.at("result").at("double").as_int64(), 2 * n);
    EXPECT_LE(row.at("finished_ms").as_int64(), previous_finished);  // newest first
    previous_finished = row.at("finished_ms").as_int64();
    EXPECT_TRUE(seen.insert(std::string(row.at("id").as_string())).second) << "twice: " << line;
  }
  EXPECT_EQ(seen, completed_ids);

  // Dead jobs, with their error, to CSV; a time window that holds nothing gives no rows.
  json::object dead = RunOk({{"format", "csv"},
                             {"source", {{"queue", "work"}, {"state", "dead"}}},
                             {"columns", {"id", "error"}},
                             {"output", "dead.csv"}});
  EXPECT_EQ(dead.at("rows").as_int64(), kJobs / 10);
  json::array rows = ReadTable("csv", std::string(dead.at("path").as_string()));
  ASSERT_EQ(rows.size(), static_cast<size_t>(kJobs / 10 + 1));
  EXPECT_EQ(rows[1].as_array()[1].as_string(), "multiple of ten");
  json::object none = RunOk({{"format", "csv"},
                             {"source", {{"queue", "work"}, {"from_ms", 0}, {"to_ms", 1}}},
                             {"output", "none.csv"}});
  EXPECT_EQ(none.at("rows").as_int64(), 0);
  json::object window = RunOk({{"format", "csv"},
                               {"source", {{"queue", "work"}, {"from_ms", previous_finished}}},
                               {"output", "window.csv"}});
  EXPECT_GE(window.at("rows").as_int64(), 1);
  EXPECT_LT(window.at("rows").as_int64(), static_cast<int64_t>(completed_ids.size()) + 1);
}

TEST_F(ExportHistoryTest, QueueSourcesNeedARedisUrl) {
  options_.redis_url.clear();
  HandlerResult result =
      Run({{"format", "csv"}, {"source", {{"queue", "work"}}}, {"output", "x.csv"}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("Redis"), std::string::npos);
}

}  // namespace
}  // namespace taskq::handlers
