// A queue's maximum length (meta.ml, queue_limits.lua) as enqueue.lua and enqueue_one.lua keep
// it, and LIFO jobs (the "l" flag of enqueue.lua's options).
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class BackpressureScriptTest : public ScriptTest {
 protected:
  broker::Reply EnqueueBatch(const std::vector<std::pair<std::string, std::string>>& jobs) {
    std::vector<std::string> args = {base(), std::to_string(jobs.size())};
    for (const auto& [id, options] : jobs) {
      args.insert(args.end(), {id, R"({"d":{}})", options});
    }
    return Eval("enqueue", EnqueueKeys(), args);
  }
  void SetMaxLength(long long n) { SetLimits(0, 1000, 0, 0, 1000, 0, "", 0, n); }
};

TEST_F(BackpressureScriptTest, ABatchThatWouldPassTheMaximumIsRefusedWhole) {
  Enqueue("a");
  Enqueue("b", 0, 60000);  // delayed counts
  Enqueue("c");
  Run({"ZADD", q().retry(), std::to_string(Now() + 600000), "r"});  // retrying counts
  Enqueue("active");
  auto claim = Claim(1);  // "a" leaves the backlog: active does not count
  ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"a"}));
  SetMaxLength(4);
  // backlog: b (delayed), c, active (waiting), r (retrying) = 4: one more is refused.
  const auto before = Snapshot();
  auto refused = EnqueueBatch({{"x", ""}, {"y", ""}});
  ASSERT_TRUE(refused.view().is_error());
  EXPECT_EQ(refused.view().str().substr(0, 10), "QUEUEFULL ");
  EXPECT_NE(refused.view().str().find("4 of 4"), std::string_view::npos) << refused.view().str();
  EXPECT_EQ(Snapshot(), before);
  // Ids that exist add nothing, repeated ones count once: answered as always.
  auto again = EnqueueBatch({{"c", ""}, {"b", ""}, {"c", ""}});
  EXPECT_EQ(Ints(again), (std::vector<long long>{0, 0, 0}));
  // Room again once a job leaves the backlog.
  Run({"ZREM", q().retry(), "r"});
  auto fits = EnqueueBatch({{"x", ""}, {"x", ""}});
  EXPECT_EQ(Ints(fits), (std::vector<long long>{1, 0})) << fits.view().str();
  EXPECT_TRUE(EnqueueBatch({{"z", ""}}).view().is_error());
}

TEST_F(BackpressureScriptTest, GroupedWaitingJobsCountAndSingleEnqueuesGoTheGeneralWay) {
  SetMaxLength(2);
  EnqueueBatch({{"g1", "0:0:-1:tenant"}});
  Enqueue("p", 3);
  // enqueue_one hands a queue with a maximum to enqueue.lua.
  auto one = Eval("enqueue_one", EnqueueOneKeys(), {base(), "n", R"({"d":{}})"});
  EXPECT_EQ(one.view().integer(), -1);
  EXPECT_FALSE(HasBody("n"));
  EXPECT_TRUE(EnqueueBatch({{"n", ""}}).view().is_error());
  SetMaxLength(0);  // removed: no maximum
  EXPECT_FALSE(HExists(q().meta(), "ml"));
  EXPECT_EQ(Eval("enqueue_one", EnqueueOneKeys(), {base(), "n", R"({"d":{}})"}).view().integer(),
            1);
}

TEST_F(BackpressureScriptTest, LifoJobsGoToTheHeadOfTheirPriorityLatestFirst) {
  Enqueue("a");
  Enqueue("b");
  auto reply = EnqueueBatch({{"l1", "l0:0:-1"}, {"t", ""}, {"l2", "l0:0:-1"}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1, 1}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"l2", "l1", "a", "b", "t"}));
  // Scored: a LIFO job of priority 5 runs before the priority-5 jobs queued earlier, after 4.
  Enqueue("p5", 5);
  Enqueue("p4", 4);
  EnqueueBatch({{"l5", "l5:0:-1"}});
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"p4", "l5", "p5"}));
  // A delayed LIFO job is delayed like any other.
  EXPECT_EQ(Ints(EnqueueBatch({{"ld", "l0:60000:-1"}})), (std::vector<long long>{2}));
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"ld"}));
  // Flags combine, in any order; a flag with nothing after it is refused.
  EXPECT_EQ(Ints(EnqueueBatch({{"hl", "hl0:0:-1"}})), (std::vector<long long>{1}));
  EXPECT_EQ(List(q().wait()).front(), "hl");
  EXPECT_EQ(HField(q().hooks(), "hl"), "u");
  EXPECT_TRUE(EnqueueBatch({{"bad", "l"}}).view().is_error());
  EXPECT_FALSE(HasBody("bad"));
}

TEST_F(BackpressureScriptTest, LifoInAGroupGoesToTheHeadOfItsGroup) {
  EnqueueBatch({{"g1", "0:0:-1:t"}, {"g2", "0:0:-1:t"}, {"lg", "l0:0:-1:t"}});
  EXPECT_EQ(ZMembers(q().group_waiting("t")), (std::vector<std::string>{"lg", "g1", "g2"}));
}

}  // namespace
}  // namespace taskq::testing
