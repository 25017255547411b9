#include "script_fixture.h"

namespace taskq::testing {
namespace {

class PauseScriptTest : public ScriptTest {
 protected:
  broker::Reply Pause(const std::string& flag) {
    return Eval("pause", PauseKeys(), {base(), flag});
  }
};

TEST_F(PauseScriptTest, PauseStopsClaimsAndReportsOnlyTheChange) {
  Enqueue("a");
  auto wakes = ListenForWakes();
  EXPECT_EQ(Pause("1").view().integer(), 1);
  EXPECT_EQ(HGet(q().meta(), "paused"), "1");
  EXPECT_EQ(Pause("1").view().integer(), 0);  // already paused
  EXPECT_EQ(HGet(q().meta(), "paused"), "1");
  EXPECT_EQ(CountWakes(*wakes), 0);
  auto claim = Claim(1);
  EXPECT_EQ(PausedOf(claim), 1);
  EXPECT_EQ(CountOf(claim), 0);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
}

TEST_F(PauseScriptTest, ResumeClearsTheFlagAndWakesWorkers) {
  Enqueue("a");
  Enqueue("b");
  Claim(1);  // meta now also holds the token fence
  std::string fence = HGet(q().meta(), "fence");
  ASSERT_FALSE(fence.empty());
  Pause("1");
  auto wakes = ListenForWakes();
  EXPECT_EQ(Pause("0").view().integer(), 1);
  EXPECT_EQ(CountWakes(*wakes), 1);
  EXPECT_FALSE(Run({"HEXISTS", q().meta(), "paused"}).view().integer());
  EXPECT_EQ(HGet(q().meta(), "fence"), fence);  // the rest of meta is kept
  EXPECT_EQ(Pause("0").view().integer(), 0);    // already running: no wake
  EXPECT_EQ(CountWakes(*wakes), 0);
  EXPECT_EQ(ClaimedIds(Claim(1)), (std::vector<std::string>{"b"}));
}

TEST_F(PauseScriptTest, ResumeOfARunningQueueWritesNothing) {
  auto wakes = ListenForWakes();
  EXPECT_EQ(Pause("0").view().integer(), 0);
  EXPECT_TRUE(AllKeys().empty());
  EXPECT_EQ(CountWakes(*wakes), 0);
}

TEST_F(PauseScriptTest, RejectsInvalidFlag) {
  for (const char* flag : {"2", "", "true", "01"}) {
    EXPECT_TRUE(Pause(flag).view().is_error()) << flag;
  }
  EXPECT_TRUE(AllKeys().empty());
  Pause("1");
  auto wakes = ListenForWakes();
  auto before = Snapshot();
  for (const char* flag : {"-1", "resume", "00"}) {
    EXPECT_TRUE(Pause(flag).view().is_error()) << flag;
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);
}

}  // namespace
}  // namespace taskq::testing
