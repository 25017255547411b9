#include "handlers/rooted_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace taskq::handlers {
namespace {

namespace fs = std::filesystem;

TEST(ComponentsBelowTest, AcceptsRelativeAndAbsolutePathsBelowTheRoot) {
  auto relative = ComponentsBelow("/srv/files", "a/b/c.txt", "f");
  ASSERT_TRUE(relative.ok()) << relative.status().ToString();
  EXPECT_EQ(*relative, (std::vector<std::string>{"a", "b", "c.txt"}));
  auto absolute = ComponentsBelow("/srv/files/", "/srv/files/./a//c.txt", "f");
  ASSERT_TRUE(absolute.ok()) << absolute.status().ToString();
  EXPECT_EQ(*absolute, (std::vector<std::string>{"a", "c.txt"}));
  for (const char* bad : {"", "/etc/passwd", "/srv/files", "/srv/files2/x", "../x", "a/../../x",
                          ".", "a/..", "dir/", "/srv/files/../files2/x"}) {
    auto result = ComponentsBelow("/srv/files", bad, "data.x");
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(result.status().field(), "data.x") << bad;
  }
}

class OpenRegularFileBelowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/taskq-rooted-file-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    base_ = name;
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/sub");
    std::ofstream(base_ + "/outside.txt") << "outside";
    std::ofstream(root_ + "/sub/inside.txt") << "inside";
  }
  void TearDown() override { fs::remove_all(base_); }

  std::string Read(const std::string& path) {
    auto fd = OpenRegularFileBelow(root_, path, "data.file");
    if (!fd.ok()) return "error: " + fd.status().ToString();
    char buffer[64];
    const ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
    return n < 0 ? "read error" : std::string(buffer, static_cast<size_t>(n));
  }

  std::string base_, root_;
};

TEST_F(OpenRegularFileBelowTest, OpensFilesBelowTheRoot) {
  EXPECT_EQ(Read("sub/inside.txt"), "inside");
  EXPECT_EQ(Read(root_ + "/sub/inside.txt"), "inside");
}

TEST_F(OpenRegularFileBelowTest, FollowsNoSymbolicLinkAnywhereBelowTheRoot) {
  fs::create_symlink(base_ + "/outside.txt", root_ + "/file-link");
  fs::create_directory_symlink(base_, root_ + "/dir-link");
  fs::create_symlink("inside.txt", root_ + "/sub/same-dir-link");  // harmless, still refused
  for (const char* path : {"file-link", "dir-link/outside.txt", "sub/same-dir-link"}) {
    auto fd = OpenRegularFileBelow(root_, path, "data.file");
    EXPECT_EQ(fd.status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(fd.status().field(), "data.file") << path;
    EXPECT_NE(fd.status().message().find("symlink"), std::string::npos) << fd.status().ToString();
  }
}

TEST_F(OpenRegularFileBelowTest, RefusesWhatIsNotARegularFileWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ + "/pipe").c_str(), 0600), 0);  // an open for reading would block
  for (const char* path : {"pipe", "sub"}) {
    auto fd = OpenRegularFileBelow(root_, path, "data.file");
    EXPECT_EQ(fd.status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_NE(fd.status().message().find("not a regular file"), std::string::npos)
        << fd.status().ToString();
  }
  EXPECT_EQ(OpenRegularFileBelow(root_, "sub/missing.txt", "f").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(OpenRegularFileBelow(root_, "missing/x.txt", "f").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(OpenRegularFileBelow(base_ + "/no-root", "x.txt", "f").status().code(),
            StatusCode::kNotFound);
}

TEST_F(OpenRegularFileBelowTest, OpenDirectoriesBelowCreatesAndRefusesLinks) {
  auto root = OpenRegularFileBelow(root_, "sub/inside.txt", "f");  // the root exists
  ASSERT_TRUE(root.ok());
  UniqueFd dir(::open(root_.c_str(), O_RDONLY | O_DIRECTORY));
  auto made = OpenDirectoriesBelow(dir.get(), {"new", "deeper"}, true, "f", "new/deeper/x");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(fs::is_directory(root_ + "/new/deeper"));
  fs::create_directory_symlink(base_, root_ + "/escape");
  auto escaped = OpenDirectoriesBelow(dir.get(), {"escape", "made"}, true, "f", "escape/made/x");
  EXPECT_EQ(escaped.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(base_ + "/made"));
}

}  // namespace
}  // namespace taskq::handlers
