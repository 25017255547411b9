// The cleanup job type on real temporary directories (file ages set with utimensat, symbolic links
// pointing out of the root, ".." paths) and against a real redis-server.
#include "handlers/cleanup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/field_errors.h"
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

constexpr int64_t kDayMs = 24 * 3600 * 1000;

// A file of `bytes` bytes whose modification time is `age_ms` in the past.
void MakeFile(const std::string& path, size_t bytes, int64_t age_ms) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << std::string(bytes, 'x');
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const int64_t when_ms = static_cast<int64_t>(now.tv_sec) * 1000 - age_ms;
  const timespec times[2] = {{when_ms / 1000, 0}, {when_ms / 1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

class CleanupFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/exports";
    outside_ = dir_.path() + "/outside";
    options_.roots = {root_, dir_.path() + "/outbox"};
    MakeFile(root_ + "/old.csv", 100, 2 * kDayMs);
    MakeFile(root_ + "/old.xlsx", 1000, 2 * kDayMs);
    MakeFile(root_ + "/new.csv", 10, 0);
    MakeFile(root_ + "/.hidden-old.csv", 7, 2 * kDayMs);
    MakeFile(root_ + "/sub/deep-old.csv", 50, 3 * kDayMs);
    MakeFile(outside_ + "/precious.csv", 5, 5 * kDayMs);
    MakeFile(outside_ + "/dir/precious2.csv", 5, 5 * kDayMs);
    // Links out of the root: to an old file, and to a directory of old files.
    fs::create_symlink(outside_ + "/precious.csv", root_ + "/link.csv");
    fs::create_directory_symlink(outside_ + "/dir", root_ + "/linkdir");
  }

  HandlerResult Run(const json::object& data) {
    FakeJobContext ctx("cleanup", json::serialize(data));
    return MakeCleanupHandler(options_)(ctx);
  }

  json::object RunOk(const json::object& data) { return SuccessObjectOf(Run(data)); }

  std::set<std::string> FilesUnder(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_directory() || e.is_symlink())
        names.insert(e.path().lexically_relative(dir).string());
    }
    return names;
  }

  TempDir dir_;
  std::string root_, outside_;
  CleanupOptions options_;
};

TEST_F(CleanupFilesTest, DryRunCountsAndDeletesNothing) {
  const std::set<std::string> before = FilesUnder(root_);
  json::object result = RunOk(
      {{"target", "files"}, {"directory", root_}, {"older_than_ms", kDayMs}, {"dry_run", true}});
  EXPECT_EQ(result.at("matched").as_int64(), 2);  // old.csv and old.xlsx
  EXPECT_EQ(result.at("matched_bytes").as_int64(), 1100);
  EXPECT_EQ(result.at("deleted").as_int64(), 0);
  EXPECT_EQ(result.at("bytes_freed").as_int64(), 0);
  EXPECT_EQ(FilesUnder(root_), before);
}

TEST_F(CleanupFilesTest, DeletesOldMatchingFilesOnlyAndNeverFollowsLinks) {
  json::object result = RunOk(
      {{"target", "files"}, {"directory", root_}, {"glob", "*.csv"}, {"older_than_ms", kDayMs}});
  EXPECT_EQ(result.at("deleted").as_int64(), 1);
  EXPECT_EQ(result.at("bytes_freed").as_int64(), 100);
  EXPECT_EQ(result.at("skipped").as_int64(), 2);  // the two links
  EXPECT_EQ(result.at("directory").as_string(), fs::canonical(root_).string());
  EXPECT_EQ(FilesUnder(root_), (std::set<std::string>{"old.xlsx", "new.csv", ".hidden-old.csv",
                                                      "sub/deep-old.csv", "link.csv", "linkdir"}));
  EXPECT_TRUE(fs::exists(outside_ + "/precious.csv"));
}

TEST_F(CleanupFilesTest, RecursiveDescendsRealDirectoriesOnly) {
  json::object result = RunOk({{"target", "files"},
                               {"directory", root_},
                               {"glob", "*.csv"},
                               {"older_than_ms", kDayMs},
                               {"recursive", true}});
  EXPECT_EQ(result.at("deleted").as_int64(), 2);  // old.csv and sub/deep-old.csv
  EXPECT_FALSE(fs::exists(root_ + "/sub/deep-old.csv"));
  EXPECT_TRUE(fs::is_directory(root_ + "/sub"));  // directories stay
  EXPECT_TRUE(fs::exists(outside_ + "/dir/precious2.csv"));
  EXPECT_TRUE(fs::exists(outside_ + "/precious.csv"));
  EXPECT_TRUE(fs::exists(root_ + "/.hidden-old.csv"));  // "*" does not match hidden files
  EXPECT_TRUE(fs::exists(root_ + "/new.csv"));
}

TEST_F(CleanupFilesTest, OlderThanZeroMeansAnyAge) {
  json::object result =
      RunOk({{"target", "files"}, {"directory", root_ + "/sub"}, {"older_than_ms", 0}});
  EXPECT_EQ(result.at("deleted").as_int64(), 1);
}

TEST_F(CleanupFilesTest, RefusesDirectoriesOutsideTheRoots) {
  for (const std::string& directory :
       {outside_, root_ + "/..", root_ + "/../outside", root_ + "/linkdir", root_ + "2",
        std::string("/"), dir_.path()}) {
    HandlerResult result =
        Run({{"target", "files"}, {"directory", directory}, {"older_than_ms", 0}});
    EXPECT_EQ(result.kind, HandlerResult::Kind::kFail) << directory;
    EXPECT_NE(result.message.find("data.directory"), std::string::npos) << result.message;
  }
  EXPECT_TRUE(fs::exists(outside_ + "/precious.csv"));
  EXPECT_TRUE(fs::exists(outside_ + "/dir/precious2.csv"));
  // ".." that stays inside a root is fine: it is compared after resolving.
  json::object result = RunOk({{"target", "files"},
                               {"directory", root_ + "/sub/.."},
                               {"older_than_ms", 0},
                               {"dry_run", true}});
  EXPECT_EQ(result.at("directory").as_string(), fs::canonical(root_).string());
}

TEST_F(CleanupFilesTest, AMissingDirectoryBelowARootHasNothingToClean) {
  json::object result =
      RunOk({{"target", "files"}, {"directory", dir_.path() + "/outbox"}, {"older_than_ms", 0}});
  EXPECT_EQ(result.at("matched").as_int64(), 0);
}

TEST(CleanupTest, EventsHaveNothingToTrimYet) {
  FakeJobContext ctx("cleanup", R"({"target":"events"})");
  HandlerResult result = MakeCleanupHandler({})(ctx);
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_EQ(result.message, "cleanup: no event streams exist yet");
}

TEST(CleanupTest, ValidationNamesTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("x")", "data"},
      {R"({})", "data.target"},
      {R"({"target":"logs"})", "data.target"},
      {R"({"target":"jobs","state":"completed","older_than_ms":0})", "data.queue"},
      {R"({"target":"jobs","queue":"q","older_than_ms":0})", "data.state"},
      {R"({"target":"jobs","queue":"q","state":"waiting","older_than_ms":0})", "data.state"},
      {R"({"target":"jobs","queue":"q","state":"dead"})", "data.older_than_ms"},
      {R"({"target":"jobs","queue":"q","state":"dead","older_than_ms":-5})", "data.older_than_ms"},
      {R"({"target":"jobs","queue":"q","state":"dead","older_than_ms":1.5})", "data.older_than_ms"},
      {R"({"target":"jobs","queue":"q","state":"dead","older_than_ms":0,"glob":"*"})", "data.glob"},
      {R"({"target":"files","older_than_ms":0})", "data.directory"},
      {R"({"target":"files","directory":"d","glob":"a/*","older_than_ms":0})", "data.glob"},
      {R"({"target":"files","directory":"d","glob":"","older_than_ms":0})", "data.glob"},
      {R"({"target":"files","directory":"d","older_than_ms":0,"recursive":"yes"})",
       "data.recursive"},
      {R"({"target":"files","directory":"d","older_than_ms":0,"dry_run":1})", "data.dry_run"},
      {R"({"target":"events","queue":"q"})", "data.queue"},
  };
  for (const auto& [data, field] : cases) {
    Status s = ValidateCleanupData(data);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << data;
    EXPECT_EQ(s.field(), field) << data << " -> " << s.ToString();
  }
  EXPECT_TRUE(ValidateCleanupData(R"({"target":"events"})").ok());
  EXPECT_TRUE(ValidateCleanupData(
                  R"({"target":"files","directory":"data/exports","glob":"*.csv",
                      "older_than_ms":86400000,"recursive":true,"dry_run":true})")
                  .ok());
}

TEST(CleanupTest, ValidationNamesEveryInvalidField) {
  Status s = ValidateCleanupData(R"({"target":"jobs","queue":"","state":"waiting",
      "older_than_ms":-5,"dry_run":1,"glob":"*"})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldNames(s), (std::vector<std::string>{"data.dry_run", "data.glob", "data.queue",
                                                     "data.state", "data.older_than_ms"}));
  s = ValidateCleanupData(R"({"target":"files","directory":"","glob":"a/*","recursive":"yes"})");
  EXPECT_EQ(FieldNames(s), (std::vector<std::string>{"data.directory", "data.glob",
                                                     "data.recursive", "data.older_than_ms"}));
  // The fields beside the target depend on it: with an invalid one only dry_run is checked.
  s = ValidateCleanupData(R"({"target":"logs","dry_run":1,"queue":5})");
  EXPECT_EQ(FieldNames(s), (std::vector<std::string>{"data.dry_run", "data.target"}));
}

TEST(CleanupJobsTest, RemovesFinishedJobsOfARealQueue) {
  testing::RedisServer server;
  auto client = std::move(*Client::Open({server.url()}));
  auto inspector = std::move(*Inspector::Open({server.url()}));
  WorkerOptions worker_options;
  worker_options.redis_url = server.url();
  worker_options.queues = *ParseQueueList("work=4");
  Worker worker(worker_options);
  worker.Register("t", [](JobContext& ctx) {
    return ctx.data_json() == "{\"fail\":true}" ? HandlerResult::Fail("no")
                                                : HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  for (int i = 0; i < 30; ++i) {
    EnqueueRequest request{"t", i < 5 ? "{\"fail\":true}" : "{}", {}};
    request.options.queue = "work";
    request.options.max_attempts = 1;
    ASSERT_TRUE(client->Enqueue(request).ok());
  }
  ASSERT_TRUE(testing::WaitUntil([&] {
    auto counts = inspector->Counts("work");
    return counts.ok() && counts->completed == 25 && counts->dead == 5;
  }));
  worker.Stop();

  CleanupOptions options;
  options.redis_url = server.url();
  auto run = [&](const json::object& data) {
    FakeJobContext ctx("cleanup", json::serialize(data));
    return SuccessObjectOf(MakeCleanupHandler(options)(ctx));
  };
  // Nothing finished a day ago; everything finished at least 0 ms ago.
  json::object none = run({{"target", "jobs"},
                           {"queue", "work"},
                           {"state", "completed"},
                           {"older_than_ms", kDayMs},
                           {"dry_run", true}});
  EXPECT_EQ(none.at("matched").as_int64(), 0);
  json::object all = run({{"target", "jobs"},
                          {"queue", "work"},
                          {"state", "completed"},
                          {"older_than_ms", 0},
                          {"dry_run", true}});
  EXPECT_EQ(all.at("matched").as_int64(), 25);
  EXPECT_EQ(all.at("deleted").as_int64(), 0);
  EXPECT_EQ(inspector->Counts("work")->completed, 25);

  json::object removed =
      run({{"target", "jobs"}, {"queue", "work"}, {"state", "dead"}, {"older_than_ms", 0}});
  EXPECT_EQ(removed.at("deleted").as_int64(), 5);
  auto counts = inspector->Counts("work");
  EXPECT_EQ(counts->dead, 0);
  EXPECT_EQ(counts->completed, 25);
}

}  // namespace
}  // namespace taskq::handlers
