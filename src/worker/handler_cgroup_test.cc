// The cgroup v2 steps on a plain directory laid out as a cgroup v2 directory is (the kernel's
// enforcement of memory.max is the isolation tests' part, where the machine offers it).
#include "worker/handler_cgroup.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace taskq::worker {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void Write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

class HandlerCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parent_ = fs::temp_directory_path() / ("taskq-cgroup-test-" + std::to_string(::getpid()));
    fs::create_directories(parent_);
    Write(parent_ / "cgroup.controllers", "cpuset cpu io memory pids\n");
    Write(parent_ / "cgroup.subtree_control", "\n");
  }
  void TearDown() override { fs::remove_all(parent_); }

  fs::path parent_;
};

TEST_F(HandlerCgroupTest, PrepareEnablesMemoryForTheChildren) {
  auto cgroups = HandlerCgroups::Prepare(parent_.string(), 256);
  ASSERT_TRUE(cgroups.ok()) << cgroups.status().ToString();
  EXPECT_EQ(Read(parent_ / "cgroup.subtree_control"), "+memory");
  EXPECT_EQ((*cgroups)->parent(), parent_.string());
}

TEST_F(HandlerCgroupTest, PrepareLeavesAnEnabledControllerAlone) {
  Write(parent_ / "cgroup.subtree_control", "cpu memory\n");
  ASSERT_TRUE(HandlerCgroups::Prepare(parent_.string(), 256).ok());
  EXPECT_EQ(Read(parent_ / "cgroup.subtree_control"), "cpu memory\n");
}

TEST_F(HandlerCgroupTest, PrepareRefusesADirectoryWithoutTheMemoryController) {
  Write(parent_ / "cgroup.controllers", "cpu io pids memoryx\n");
  auto cgroups = HandlerCgroups::Prepare(parent_.string(), 256);
  ASSERT_FALSE(cgroups.ok());
  EXPECT_NE(cgroups.status().message().find("controllers include memory"), std::string::npos)
      << cgroups.status().ToString();
  EXPECT_FALSE(HandlerCgroups::Prepare((parent_ / "absent").string(), 256).ok());
}

TEST_F(HandlerCgroupTest, EachProcessGetsACgroupWithTheCapAndEntersIt) {
  auto cgroups = HandlerCgroups::Prepare(parent_.string(), 256);
  ASSERT_TRUE(cgroups.ok());
  auto first = (*cgroups)->Create();
  auto second = (*cgroups)->Create();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok());
  const fs::path directory = (*first)->directory();
  EXPECT_EQ(directory.parent_path(), parent_);
  EXPECT_TRUE(
      directory.filename().string().starts_with("taskq-" + std::to_string(::getpid()) + "-"));
  EXPECT_NE((*first)->directory(), (*second)->directory());
  EXPECT_EQ(Read(directory / "memory.max"), std::to_string(256 << 20));
  EXPECT_FALSE(fs::exists(directory / "memory.swap.max"));  // none made where the kernel has none
  ASSERT_TRUE((*first)->Enter(4321).ok());
  EXPECT_EQ(Read(directory / "cgroup.procs"), "4321");

  EXPECT_FALSE((*first)->OutOfMemory());
  Write(directory / "memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 0\n");
  EXPECT_FALSE((*first)->OutOfMemory());  // over the cap at times, but nothing killed
  Write(directory / "memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
  EXPECT_TRUE((*first)->OutOfMemory());

  // A real cgroup's files go with its directory; these are plain files, so the test removes them
  // to see the directory removed.
  for (const char* file : {"memory.max", "cgroup.procs", "memory.events"}) {
    fs::remove(directory / file);
  }
  first->reset();
  EXPECT_FALSE(fs::exists(directory));
}

TEST_F(HandlerCgroupTest, PrepareRemovesTheEmptyCgroupsOfWorkersThatAreGone) {
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  const fs::path left = parent_ / ("taskq-" + std::to_string(gone) + "-3");
  const fs::path live = parent_ / ("taskq-" + std::to_string(::getpid()) + "-3");
  const fs::path other = parent_ / "someone-else";
  for (const fs::path& p : {left, live, other}) fs::create_directories(p);
  ASSERT_TRUE(HandlerCgroups::Prepare(parent_.string(), 64).ok());
  EXPECT_FALSE(fs::exists(left));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
}

TEST_F(HandlerCgroupTest, ACgroupWithTheControllerForItsChildrenIsUsedAsItIs) {
  Write(parent_ / "cgroup.subtree_control", "memory pids\n");
  auto directory = MakeRoomForHandlerCgroups(parent_.string(), 4321);
  ASSERT_TRUE(directory.ok()) << directory.status().ToString();
  EXPECT_EQ(*directory, parent_.string());
  EXPECT_FALSE(fs::exists(parent_ / "taskq-worker-4321"));
}

TEST_F(HandlerCgroupTest, AProcessInADelegatedCgroupMovesIntoALeafOfItsOwn) {
  auto directory = MakeRoomForHandlerCgroups(parent_.string(), 4321);
  ASSERT_TRUE(directory.ok()) << directory.status().ToString();
  EXPECT_EQ(*directory, parent_.string());
  EXPECT_EQ(Read(parent_ / "taskq-worker-4321" / "cgroup.procs"), "4321");
  EXPECT_EQ(Read(parent_ / "cgroup.subtree_control"), "+memory");
}

TEST_F(HandlerCgroupTest, ACgroupWithoutTheMemoryControllerIsRefused) {
  Write(parent_ / "cgroup.controllers", "cpu pids\n");
  auto directory = MakeRoomForHandlerCgroups(parent_.string(), 4321);
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("memory controller is not available"),
            std::string::npos)
      << directory.status().ToString();
  EXPECT_FALSE(fs::exists(parent_ / "taskq-worker-4321"));
}

TEST(Cgroup2TextTest, TheMountPointIsTheCgroup2Line) {
  const std::string mountinfo =
      "24 29 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
      "30 24 0:26 / /sys/fs/cgroup/memory rw shared:10 - cgroup cgroup rw,memory\n"
      "31 24 0:27 / /sys/fs/cgroup rw,nosuid,nodev shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
  EXPECT_EQ(Cgroup2MountPoint(mountinfo), "/sys/fs/cgroup");
  EXPECT_EQ(Cgroup2MountPoint("24 29 0:22 / /sys rw shared:7 - sysfs sysfs rw\n"), std::nullopt);
  EXPECT_EQ(Cgroup2MountPoint(""), std::nullopt);
}

TEST(Cgroup2TextTest, TheOwnPathIsTheUnifiedLine) {
  EXPECT_EQ(Cgroup2PathOf("4:memory:/x\n0::/system.slice/taskq.service\n"),
            "/system.slice/taskq.service");
  EXPECT_EQ(Cgroup2PathOf("0::/\n"), "/");
  EXPECT_EQ(Cgroup2PathOf("4:memory:/x\n1:name=systemd:/\n"), std::nullopt);
}

}  // namespace
}  // namespace taskq::worker
