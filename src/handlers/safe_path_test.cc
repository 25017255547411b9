#include "handlers/safe_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace taskq::handlers {
namespace {

namespace fs = std::filesystem;

TEST(IsWithinTest, ComparesWholeComponents) {
  EXPECT_TRUE(IsWithin("/data/exports", "/data/exports"));
  EXPECT_TRUE(IsWithin("/data/exports", "/data/exports/a/b.csv"));
  EXPECT_TRUE(IsWithin("/data/exports/", "/data/exports/a"));
  EXPECT_FALSE(IsWithin("/data/exports", "/data/exports2/a"));
  EXPECT_FALSE(IsWithin("/data/exports", "/data/ex"));
  EXPECT_FALSE(IsWithin("/data/exports", "/data"));
  EXPECT_FALSE(IsWithin("/data/exports", "relative/data/exports"));
  EXPECT_TRUE(IsWithin("/", "/anything"));
}

TEST(CheckRelativeFilePathTest, RefusesWhatCouldLeaveTheDirectory) {
  EXPECT_TRUE(CheckRelativeFilePath("report.csv", "data.output").ok());
  EXPECT_TRUE(CheckRelativeFilePath("2024/05/report.csv", "data.output").ok());
  EXPECT_TRUE(CheckRelativeFilePath("a..b.csv", "data.output").ok());
  for (const char* bad : {"", "/etc/passwd", "../x.csv", "a/../../x.csv", "a/..", "dir/", ".",
                          "a/.", "line\nbreak.csv"}) {
    Status s = CheckRelativeFilePath(bad, "data.output");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.field(), "data.output") << bad;
  }
}

class ResolveBelowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/taskq-safe-path-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
    fs::create_directories(dir_ / "root/sub");
    fs::create_directories(dir_ / "outside");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(ResolveBelowTest, ResolvesInsideTheRoot) {
  auto path = ResolveBelow(dir_ / "root", "sub/new/file.csv", "data.output");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, fs::canonical(dir_) / "root/sub/new/file.csv");
}

TEST_F(ResolveBelowTest, RefusesSymbolicLinksLeadingOut) {
  fs::create_directory_symlink(dir_ / "outside", dir_ / "root/escape");
  fs::create_symlink(dir_ / "outside/file.csv", dir_ / "root/file.csv");
  EXPECT_EQ(ResolveBelow(dir_ / "root", "escape/x.csv", "data.output").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveBelow(dir_ / "root", "file.csv", "data.output").status().code(),
            StatusCode::kInvalidArgument);
}

// A link to a path that does not exist yet would be followed by whatever creates that path.
TEST_F(ResolveBelowTest, RefusesDanglingLinks) {
  fs::create_directory_symlink(dir_ / "outside/not-yet", dir_ / "root/later");
  Status s = ResolveBelow(dir_ / "root", "later/x.csv", "data.output").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "data.output");
}

TEST_F(ResolveBelowTest, FollowsLinksThatStayInside) {
  fs::create_directory_symlink(dir_ / "root/sub", dir_ / "root/alias");
  auto path = ResolveBelow(dir_ / "root", "alias/x.csv", "data.output");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, fs::canonical(dir_) / "root/sub/x.csv");
}

TEST_F(ResolveBelowTest, TheRootItselfIsNoFile) {
  fs::create_directory_symlink(dir_ / "root", dir_ / "root/self");
  EXPECT_FALSE(ResolveBelow(dir_ / "root", "self", "data.output").ok());
}

}  // namespace
}  // namespace taskq::handlers
