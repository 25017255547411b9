// Grouped jobs: requeue.lua puts them in their group's zset, claim.lua serves the groups round
// robin (the ungrouped jobs taking one turn like a group) under per-group limits, and the
// finishing scripts free their groups' slots.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class GroupsTest : public ScriptTest {
 protected:
  void EnqueueIn(const std::string& id, const std::string& group, int priority = 0,
                 long long delay_ms = 0) {
    Enqueue(id, priority, delay_ms, group);
  }
  std::string GroupKey(const std::string& group) { return base() + "gw:" + group; }
  std::string WaitingCount() { return HGet(q().meta(), "gwaiting"); }
  // group_page.lua: grouped waiting jobs from `offset` among them, in run order or reversed.
  std::vector<std::string> GroupPage(int offset, int count, const std::string& order = "") {
    auto reply = Eval("group_page", GroupPageKeys(),
                      {base(), std::to_string(offset), std::to_string(count), order});
    std::vector<std::string> ids;
    for (size_t i = 0; i < reply.view().size(); ++i) ids.emplace_back(reply.view()[i].str());
    return ids;
  }
};

TEST_F(GroupsTest, GroupedJobWaitsInItsGroupAndTheRingGetsItsTurn) {
  EnqueueIn("a1", "acme");
  EXPECT_TRUE(List(q().wait()).empty());
  EXPECT_EQ(ZMembers(GroupKey("acme")), (std::vector<std::string>{"a1"}));
  EXPECT_EQ(List(q().group_ring()), (std::vector<std::string>{"", "acme"}));
  EXPECT_EQ(HGet(base() + "g", "a1"), "acme");
  EXPECT_EQ(WaitingCount(), "1");
  auto job = Eval("get_job", GetJobKeys(), {base(), "a1"});
  EXPECT_EQ(job.view()[kGroup].str(), "acme");
}

TEST_F(GroupsTest, GroupsTakeTurnsSoABusyGroupCannotStarveASmallOne) {
  for (int i = 1; i <= 5; ++i) EnqueueIn("big" + std::to_string(i), "big");
  EnqueueIn("small1", "small");
  EnqueueIn("small2", "small");
  auto claim = Claim(4);
  EXPECT_EQ(ClaimedIds(claim), (std::vector<std::string>{"big1", "small1", "big2", "small2"}));
  EXPECT_EQ(MoreOf(claim), 1);
  EXPECT_EQ(WaitingCount(), "3");
  EXPECT_EQ(List(q().group_ring()), (std::vector<std::string>{"", "big"}));  // small is done
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"big3", "big4", "big5"}));
  EXPECT_FALSE(Exists(q().group_ring()));  // nothing grouped waits: no ring
  EXPECT_EQ(WaitingCount(), "0");
  EXPECT_EQ(HGet(base() + "gactive", "big"), "5");
  EXPECT_EQ(HGet(base() + "gactive", "small"), "2");
}

TEST_F(GroupsTest, UngroupedJobsTakeOneTurnLikeAGroup) {
  Enqueue("u1");
  Enqueue("u2");
  Enqueue("u3");
  EnqueueIn("a1", "acme");
  EnqueueIn("a2", "acme");
  auto first = Claim(2);
  auto ids = ClaimedIds(first);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "u1"}));
  ids = ClaimedIds(Claim(10));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a2", "u2", "u3"}));
}

TEST_F(GroupsTest, PriorityOrdersJobsWithinAGroup) {
  EnqueueIn("late", "acme", 5);
  EnqueueIn("plain", "acme");
  EnqueueIn("urgent", "acme", -5);
  EXPECT_EQ(ClaimedIds(Claim(3)), (std::vector<std::string>{"urgent", "plain", "late"}));
  EXPECT_EQ(StateOf("late").priority, 5);
}

TEST_F(GroupsTest, GroupConcurrencyHoldsTheGroupUntilOneOfItsJobsFinishes) {
  SetLimits(0, 1000, 0, 0, 1000, 1);
  EnqueueIn("a1", "acme");
  EnqueueIn("a2", "acme");
  EnqueueIn("b1", "bolt");
  auto first = Claim(10);
  EXPECT_EQ(ClaimedIds(first), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(MoreOf(first), 0);
  auto none = Claim(10);
  EXPECT_EQ(CountOf(none), 0);
  EXPECT_GT(NextDueOf(none), 0);  // held groups are looked at again later, not polled
  EXPECT_EQ(ZMembers(q().groups_held()), (std::vector<std::string>{"acme"}));
  auto wakes = ListenForWakes();
  CompleteJob("a1", TokenOf(first, 0));
  EXPECT_EQ(CountWakes(*wakes), 1);
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(HGet(base() + "gactive", "acme"), "1");
}

// Regression (found by the model test): complete.lua applied retention before freeing the
// groups' slots; with retention 0 the completed job's group entry was already deleted, so its
// group's active count never went down and a group concurrency limit held the group forever.
TEST_F(GroupsTest, CompletionWithRetentionZeroFreesTheGroupSlot) {
  SetLimits(0, 1000, 0, 0, 1000, 1);
  EnqueueIn("a1", "acme");
  EnqueueIn("a2", "acme");
  auto first = Claim(10);
  ASSERT_EQ(ClaimedIds(first), (std::vector<std::string>{"a1"}));
  auto reply =
      Eval("complete", CompleteKeys(), {base(), "1", "0", "0", "a1", TokenOf(first, 0), "null"});
  ASSERT_EQ(Ints(reply), (std::vector<long long>{1}));
  ExpectNoTrace("a1");  // retention 0 kept nothing
  EXPECT_FALSE(HExists(base() + "gactive", "acme"));
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"a2"}));
}

TEST_F(GroupsTest, GroupRateLimitHoldsTheGroupUntilItsWindowHasRoom) {
  SetLimits(0, 1000, 0, 2, 1000, 0);
  for (const char* id : {"a1", "a2", "a3"}) EnqueueIn(id, "acme");
  EnqueueIn("b1", "bolt");
  auto first = Claim(10);
  auto ids = ClaimedIds(first);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "a2", "b1"}));
  auto held = Claim(10);
  EXPECT_EQ(CountOf(held), 0);
  EXPECT_GT(NextDueOf(held), 0);
  EXPECT_LE(NextDueOf(held), 1000);
  // the window moves on: acme's batch is one window old
  auto members = Strings({"ZRANGE", base() + "grl:acme", "0", "-1", "WITHSCORES"});
  ASSERT_EQ(members.size(), 2u);
  Run({"ZADD", base() + "grl:acme", std::to_string(std::stoll(members[1]) - 1000), members[0]});
  Run({"ZADD", q().groups_held(), "0", "acme"});
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"a3"}));
}

TEST_F(GroupsTest, QueueGroupFieldNamesTheGroupFromTheData) {
  SetLimits(0, 1000, 0, 0, 1000, 0, "tenant");
  auto plain = [&](const std::string& id, const std::string& data) {
    auto reply =
        Eval("enqueue", EnqueueKeys(), {base(), "1", id, R"({"t":"email","d":)" + data + "}", ""});
    ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  };
  plain("s", R"({"tenant":"acme","x":1})");
  plain("n", R"({"tenant":42})");
  plain("none", R"({"other":"acme"})");
  plain("obj", R"({"tenant":{"a":1}})");
  EXPECT_EQ(HGet(base() + "g", "s"), "acme");
  EXPECT_EQ(HGet(base() + "g", "n"), "42");
  EXPECT_FALSE(HExists(base() + "g", "none"));
  EXPECT_FALSE(HExists(base() + "g", "obj"));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"none", "obj"}));
  EnqueueIn("given", "explicit");  // an explicit group wins over the field
  EXPECT_EQ(HGet(base() + "g", "given"), "explicit");
  // A bulk of plain jobs too (enqueue.lua's plain-bulk path must not take it).
  auto bulk = Eval("enqueue", EnqueueKeys(),
                   {base(), "2", "b1", R"({"d":{"tenant":"acme"}})", "", "b2",
                    R"({"d":{"tenant":"acme"}})", ""});
  ASSERT_FALSE(bulk.view().is_error()) << bulk.view().str();
  EXPECT_EQ(HGet(base() + "g", "b2"), "acme");
  EXPECT_EQ(ZMembers(q().group_waiting("acme")), (std::vector<std::string>{"s", "b1", "b2"}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"none", "obj"}));
}

TEST_F(GroupsTest, RetriedAndRecoveredJobsGoBackToTheirGroup) {
  EnqueueIn("a1", "acme");
  EnqueueIn("a2", "acme");
  auto claim = Claim(2);
  FailJob("a1", TokenOf(claim, 0), 60000);  // retrying
  EXPECT_EQ(HGet(base() + "gactive", "acme"), "1");
  auto promoted = Eval("promote", PromoteKeys(), {base(), "a1"});
  EXPECT_EQ(promoted.view().integer(), 1);
  EXPECT_EQ(ZMembers(GroupKey("acme")), (std::vector<std::string>{"a1"}));
  EXPECT_TRUE(List(q().wait()).empty());
  Run({"ZADD", q().active(), "1", "a2"});  // a2's lease expired
  auto recovered = Eval("recover", RecoverKeys(), {base(), "5", "100", "10", "-1", "0"});
  EXPECT_EQ(Ints(recovered), (std::vector<long long>{1, 0}));
  EXPECT_FALSE(HExists(base() + "gactive", "acme"));
  EXPECT_EQ(ZMembers(GroupKey("acme")).size(), 2u);
  EXPECT_EQ(WaitingCount(), "2");
  EXPECT_EQ(ClaimedIds(Claim(1)), (std::vector<std::string>{"a2"}));  // at the head
}

TEST_F(GroupsTest, ReleasedJobsGoBackToTheirGroupAndFreeTheirSlot) {
  EnqueueIn("a1", "acme");
  auto claim = Claim(1);
  auto released = Eval("release", ReleaseKeys(), {base(), "a1", TokenOf(claim, 0)});
  EXPECT_EQ(released.view().integer(), 1);
  EXPECT_FALSE(HExists(base() + "gactive", "acme"));
  EXPECT_EQ(ZMembers(GroupKey("acme")), (std::vector<std::string>{"a1"}));
  EXPECT_EQ(List(q().group_ring()), (std::vector<std::string>{"", "acme"}));
}

// Removing a group's last waiting job leaves its ring entry (a removal must not scan the ring:
// LREM is O(groups)); claim drops the entry when its turn comes, and a group whose jobs come back
// first reuses it: one turn per group, never two.
TEST_F(GroupsTest, RemovingTheLastWaitingJobOfAGroupLeavesItsEntryForClaimToDrop) {
  EnqueueIn("a1", "acme");
  EnqueueIn("b1", "bolt");
  auto removed = Eval("remove", RemoveKeys(), {base(), "a1", "cancel"});
  EXPECT_EQ(removed.view().integer(), 1);
  EXPECT_EQ(List(q().group_ring()), (std::vector<std::string>{"", "acme", "bolt"}));
  EXPECT_EQ(WaitingCount(), "1");
  EXPECT_FALSE(HExists(base() + "g", "a1"));  // every trace of the job goes
  // acme's jobs come back before claim passed: the entry is reused, not doubled.
  EnqueueIn("a2", "acme");
  EXPECT_EQ(List(q().group_ring()), (std::vector<std::string>{"", "acme", "bolt"}));
  Eval("remove", RemoveKeys(), {base(), "a2", "remove"});
  // Claim skips acme's stale entry, drops it, and serves bolt.
  EXPECT_EQ(ClaimedIds(Claim(5)), (std::vector<std::string>{"b1"}));
  EXPECT_FALSE(Exists(q().group_ring()));
  EXPECT_FALSE(Exists(base() + "gin"));
  EXPECT_EQ(WaitingCount(), "0");
  // A group that comes back after that gets a fresh entry.
  EnqueueIn("a3", "acme");
  EXPECT_EQ(List(q().group_ring()), (std::vector<std::string>{"", "acme"}));
}

// A ring stored without its member set (gin) is read as it is: every entry a member, so a group
// already in it is not added twice.
TEST_F(GroupsTest, ARingWithoutItsMemberSetGetsNoSecondEntry) {
  EnqueueIn("a1", "acme");
  EnqueueIn("b1", "bolt");
  Run({"DEL", base() + "gin"});
  Eval("remove", RemoveKeys(), {base(), "a1", "remove"});
  EnqueueIn("a2", "acme");
  EXPECT_EQ(List(q().group_ring()), (std::vector<std::string>{"", "acme", "bolt"}));
  EXPECT_EQ(Strings({"SORT", base() + "gin", "ALPHA"}), (std::vector<std::string>{"acme", "bolt"}));
}

TEST_F(GroupsTest, DelayedGroupedJobJoinsItsGroupWhenDue) {
  EnqueueIn("later", "acme", 0, 60000);
  EXPECT_FALSE(Exists(GroupKey("acme")));
  EXPECT_EQ(HGet(base() + "g", "later"), "acme");
  Run({"ZADD", q().delayed(), "1", "later"});  // due now
  // promoted into its group and claimed from there by the same claim
  EXPECT_EQ(ClaimedIds(Claim(1)), (std::vector<std::string>{"later"}));
  EXPECT_FALSE(Exists(GroupKey("acme")));
  EXPECT_EQ(WaitingCount(), "0");
}

TEST_F(GroupsTest, GroupPageListsGroupedJobsInGroupOrder) {
  for (const char* id : {"b1", "b2"}) EnqueueIn(id, "bolt");
  for (const char* id : {"a1", "a2", "a3"}) EnqueueIn(id, "acme");
  EXPECT_EQ(GroupPage(0, 10), (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2"}));
  EXPECT_EQ(GroupPage(2, 2), (std::vector<std::string>{"a3", "b1"}));
  EXPECT_EQ(GroupPage(5, 2), (std::vector<std::string>{}));
}

// The caller counts the ungrouped jobs (listed before the grouped ones, or after them reversed):
// the offset is among the grouped jobs only.
TEST_F(GroupsTest, GroupPageOffsetCountsOnlyGroupedJobs) {
  Enqueue("plain");
  Enqueue("urgent", -1);
  for (const char* id : {"a1", "a2"}) EnqueueIn(id, "acme");
  EXPECT_EQ(GroupPage(0, 10), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(GroupPage(1, 10), (std::vector<std::string>{"a2"}));
}

TEST_F(GroupsTest, GroupPageReversedRunsGroupsAndTheirJobsBackwards) {
  for (const char* id : {"b1", "b2"}) EnqueueIn(id, "bolt");
  for (const char* id : {"a1", "a2", "a3"}) EnqueueIn(id, "acme");
  EnqueueIn("a0", "acme", -1);  // runs first in its group
  EXPECT_EQ(GroupPage(0, 10, "rev"),
            (std::vector<std::string>{"b2", "b1", "a3", "a2", "a1", "a0"}));
  EXPECT_EQ(GroupPage(1, 2, "rev"), (std::vector<std::string>{"b1", "a3"}));
  EXPECT_EQ(GroupPage(6, 2, "rev"), (std::vector<std::string>{}));
}

}  // namespace
}  // namespace taskq::testing

namespace taskq::testing {
namespace {

// A bulk of grouped jobs drains completely through repeated claims and completions.
TEST_F(GroupsTest, BulkOfGroupedJobsDrains) {
  std::vector<std::string> args = {base(), "30"};
  for (int i = 0; i < 30; ++i) {
    args.push_back("j" + std::to_string(i));
    args.push_back(R"({"t":"email","d":{}})");
    args.push_back(i < 25 ? "0:0:-1:big" : "0:0:-1:small");
  }
  auto reply = Eval("enqueue", EnqueueKeys(), args);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(WaitingCount(), "30");
  int claimed = 0;
  for (int round = 0; round < 40 && claimed < 30; ++round) {
    auto claim = Claim(4);
    auto ids = ClaimedIds(claim);
    for (size_t i = 0; i < ids.size(); ++i) CompleteJob(ids[i], TokenOf(claim, i));
    claimed += static_cast<int>(ids.size());
    if (ids.empty()) ADD_FAILURE() << "round " << round << " claimed nothing";
  }
  EXPECT_EQ(claimed, 30);
  EXPECT_EQ(WaitingCount(), "0");
}

}  // namespace
}  // namespace taskq::testing

namespace taskq::testing {
namespace {

// Debounce (unique_enqueue.lua) replaces a grouped waiting job: out of its group, the new one in.
TEST_F(GroupsTest, DebounceReplacesAGroupedWaitingJob) {
  auto enqueue = [&](const std::string& id) {
    auto reply = Eval("enqueue", EnqueueKeys(),
                      {base(), "1", id, R"({"t":"email","d":{}})", "0:0:-1:acme|debounce:0:k"});
    ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  };
  enqueue("first");
  enqueue("second");
  EXPECT_EQ(ZMembers(GroupKey("acme")), (std::vector<std::string>{"second"}));
  EXPECT_EQ(WaitingCount(), "1");
  EXPECT_FALSE(HasBody("first"));
  EXPECT_FALSE(HExists(base() + "g", "first"));
  EXPECT_EQ(ClaimedIds(Claim(5)), (std::vector<std::string>{"second"}));
}

}  // namespace
}  // namespace taskq::testing

namespace taskq::testing {
namespace {

// A rate-limited handler's job (postpone.lua) frees its group's slot and, when due, waits in its
// group again.
TEST_F(GroupsTest, PostponedJobFreesItsGroupSlotAndReturnsToItsGroup) {
  SetLimits(0, 1000, 0, 0, 1000, 1);
  EnqueueIn("a1", "acme");
  EnqueueIn("a2", "acme");
  auto claim = Claim(5);
  ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"a1"}));  // group concurrency 1
  auto postponed =
      Eval("postpone", PostponeKeys(), {base(), "1", "10", "a1", TokenOf(claim, 0), "0", ""});
  ASSERT_EQ(Ints(postponed), (std::vector<long long>{1}));
  EXPECT_FALSE(HExists(base() + "gactive", "acme"));
  auto next = Claim(5);  // a1 is due at once: promoted into its group, behind a2
  EXPECT_EQ(ClaimedIds(next), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(ZMembers(GroupKey("acme")), (std::vector<std::string>{"a1"}));
}

}  // namespace
}  // namespace taskq::testing
