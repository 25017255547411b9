// Priority aging (meta.ag, requeue.lua): a waiting job gains one priority step per `ag` ms, so a
// low priority is not starved by a stream of better ones. The contract is about Redis time, so
// these tests let real time pass (a few hundred ms).
#include <thread>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

class AgingTest : public ScriptTest {
 protected:
  void SetUp() override {
    ScriptTest::SetUp();
    SetLimits(0, 1000, 0, 0, 1000, 0, "", kStepMs);
  }
  static void Wait(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
  static constexpr int kStepMs = 50;
};

TEST_F(AgingTest, WithoutWaitingPrioritiesStillOrderJobs) {
  Enqueue("low", 5);
  Enqueue("plain");
  Enqueue("urgent", -5);
  EXPECT_TRUE(List(q().wait()).empty());  // every waiting job is scored by age
  EXPECT_EQ(ClaimedIds(Claim(3)), (std::vector<std::string>{"urgent", "plain", "low"}));
  EXPECT_EQ(StateOf("low").priority, 5);  // the record keeps the priority
  EXPECT_EQ(StateOf("urgent").priority, -5);
  EXPECT_EQ(StateOf("plain").priority, 0);
}

// "low" (priority 5) waits 8 steps: it is then ahead of a priority 0 job and of a priority -1
// job that arrive now (5 - 8 = -3 < -1).
TEST_F(AgingTest, AJobThatWaitedLongEnoughGoesAheadOfBetterPriorities) {
  Enqueue("low", 5);
  Wait(8 * kStepMs);
  Enqueue("plain");
  Enqueue("better", -1);
  Enqueue("best", -10);  // 10 steps better: still ahead
  EXPECT_EQ(ClaimedIds(Claim(4)), (std::vector<std::string>{"best", "low", "better", "plain"}));
}

// Plain jobs too are scored by time, alone or in a bulk (enqueue.lua's plain-bulk path must not
// take them; enqueue_one.lua leaves aging queues to enqueue.lua, enqueue_one_test.cc).
TEST_F(AgingTest, PlainJobsAreScoredByTimeAloneAndInABulk) {
  const long long before = Now();
  Enqueue("a");
  auto bulk = Eval("enqueue", EnqueueKeys(),
                   {base(), "2", "b1", R"({"d":{}})", "", "b2", R"({"d":{}})", ""});
  ASSERT_FALSE(bulk.view().is_error()) << bulk.view().str();
  EXPECT_TRUE(List(q().wait()).empty());
  for (const char* id : {"a", "b1", "b2"}) {
    const double score = ZScore(q().prioritized(), id);
    EXPECT_GE(score, before) << id;
    EXPECT_LE(score, Now()) << id;
  }
}

// A job put back at the head (recover, release) keeps the age it had: its created time.
TEST_F(AgingTest, RecoveredJobKeepsItsAge) {
  Enqueue("old");
  Wait(4 * kStepMs);
  Enqueue("new");
  auto claim = Claim(1);
  ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"old"}));
  Run({"ZADD", q().active(), "1", "old"});  // its lease expired
  auto recovered = Eval("recover", RecoverKeys(), {base(), "5", "100", "10", "-1", "0"});
  ASSERT_EQ(Ints(recovered), (std::vector<long long>{1, 0}));
  EXPECT_EQ(ClaimedIds(Claim(1)), (std::vector<std::string>{"old"}));
}

TEST_F(AgingTest, GroupedJobsAgeToo) {
  Enqueue("low", 3, 0, "acme");
  Wait(6 * kStepMs);
  Enqueue("plain", 0, 0, "acme");
  EXPECT_EQ(ClaimedIds(Claim(2)), (std::vector<std::string>{"low", "plain"}));
  EXPECT_EQ(StateOf("low").priority, 3);
}

}  // namespace
}  // namespace taskq::testing
