// batch_commit.lua, batch_close.lua and batch_cancel.lua, and the batch steps of the finishing
// and retrying scripts (lua/include/flows.lua).
#include "script_fixture.h"

namespace taskq::testing {
namespace {

const std::string kMemberBody = R"({"t":"email","d":{}})";

class BatchScriptTest : public ScriptTest {
 protected:
  static std::string Id(const std::string& ref) { return "B." + ref; }
  // A creation: `members` members "0".."members-1", then the callbacks named.
  broker::Reply Create(int members, const std::vector<std::string>& callbacks, bool open = false,
                       const std::string& u = "B") {
    std::vector<std::string> args = {
        base(), u, "60000", open ? "1" : "0", "", std::to_string(members + callbacks.size())};
    for (int i = 0; i < members; ++i) {
      const std::string ref = std::to_string(i);
      args.insert(args.end(), {ref, "*", "fail", u + "." + ref, kMemberBody, "0:0:-1"});
    }
    for (const std::string& ref : callbacks) {
      args.insert(args.end(), {ref, "^", "fail", u + "." + ref, kMemberBody, "0:0:-1"});
    }
    return Eval("batch_commit", broker::BatchCommitKeys(q()), args);
  }
  broker::Reply Add(const std::string& addition, int members, const std::string& u = "B") {
    std::vector<std::string> args = {base(), u, "0", "0", addition, std::to_string(members)};
    for (int i = 0; i < members; ++i) {
      const std::string ref = addition + "-" + std::to_string(i);
      args.insert(args.end(), {ref, "*", "fail", u + "." + ref, kMemberBody, "0:0:-1"});
    }
    return Eval("batch_commit", broker::BatchCommitKeys(q()), args);
  }
  long long Close() {
    return Eval("batch_close", broker::BatchCloseKeys(q()), {base(), "B"}).view().AsInt(-9);
  }
  // One step of a cancel: {status, the position to go on from}.
  std::vector<long long> CancelStep(long long from, long long limit) {
    return Ints(Eval("batch_cancel", broker::BatchCancelKeys(q()),
                     {base(), "B", std::to_string(from), std::to_string(limit)}));
  }
  long long Cancel() { return CancelStep(0, 1000).at(0); }
  std::string Record(const std::string& field) { return HGet(q().flow("B"), field); }
  // Completes the given jobs in one call, as a worker's batch does.
  void CompleteAll(const std::map<std::string, std::string>& tokens,
                   const std::vector<std::string>& ids) {
    std::vector<std::string> args = {base(), std::to_string(ids.size()), "-1", "0"};
    for (const std::string& id : ids) args.insert(args.end(), {id, tokens.at(id), "null"});
    auto reply = Eval("complete", CompleteKeys(), args);
    ASSERT_EQ(Ints(reply), std::vector<long long>(ids.size(), 1)) << reply.view().str();
  }
  std::string CountsOf(const std::string& callback) {
    return HGet(q().flow_results("B", callback), "*");
  }
  std::string ErrorOf(const std::string& id) {
    auto errors = List(q().job_errors(id));
    return errors.empty() ? "" : errors.front();
  }
};

TEST_F(BatchScriptTest, CommitQueuesTheMembersAndHoldsTheCallbacks) {
  auto wakes = ListenForWakes();
  ASSERT_EQ(Create(3, {"on_complete", "on_success"}).view().AsInt(-9), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("0"), Id("1"), Id("2")}));
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("on_complete"), Id("on_success")}));
  EXPECT_EQ(StateOf(Id("on_complete")).state, "held");
  EXPECT_EQ(Record("kind"), "batch");
  EXPECT_EQ(Record("st"), "running");
  EXPECT_EQ(Record("open"), "0");
  EXPECT_EQ(Record("oc"), "w");
  EXPECT_EQ(Record("j:*"), "w:3:3:0:0:0:0:0");
  EXPECT_EQ(HGet(q().hooks(), Id("1")), "f\tB\t1\t*\t*\tfail");
  EXPECT_EQ(HGet(q().hooks(), Id("on_success")), "f\tB\t1\ton_success\t^\tfail\t0:-1:0");
  EXPECT_EQ(HGet(q().flow_tree("B"), "on_complete"), "^\tfail");
  EXPECT_EQ(HGet(q().meta(), "enqueued"), "5");
  EXPECT_EQ(CountWakes(*wakes), 1);
  // The same batch again changes nothing.
  EXPECT_EQ(Create(3, {"on_complete", "on_success"}).view().AsInt(-9), 0);
  EXPECT_EQ(List(q().wait()).size(), 3u);
  // Without on_success, no death can fail the join: its override is set.
  ASSERT_EQ(Create(1, {"on_complete"}, false, "C").view().AsInt(-9), 1);
  EXPECT_EQ(HGet(q().flow("C"), "j:*"), "w:1:1:0:0:0:0:1");
}

TEST_F(BatchScriptTest, ABadBatchIsRefusedWithNothingWritten) {
  const auto job = [](const std::string& ref, const std::string& parent,
                      const std::string& policy = "fail") {
    return std::vector<std::string>{ref, parent, policy, "B." + ref, kMemberBody, "0:0:-1"};
  };
  const std::vector<std::vector<std::vector<std::string>>> bad = {
      {job("1", "*")},                           // members start at 0
      {job("0", "*"), job("0", "*")},            // a repeated ref
      {job("0", "*", "continue")},               // members' policy is fail
      {job("on_complete", "^"), job("0", "*")},  // a member after a callback
      {job("on_failure", "^")},                  // no such callback
      {job("0", "")},                            // a parent that is not "*"
      {job("on_success", "^"), job("on_success", "^")},
  };
  for (const auto& jobs : bad) {
    std::vector<std::string> args = {base(), "B", "60000", "0", "", std::to_string(jobs.size())};
    for (const auto& j : jobs) args.insert(args.end(), j.begin(), j.end());
    auto reply = Eval("batch_commit", broker::BatchCommitKeys(q()), args);
    EXPECT_TRUE(reply.view().is_error()) << jobs[0][0];
    EXPECT_TRUE(AllKeys().empty());
  }
  // An addition with the creation's refs, or to no batch.
  EXPECT_EQ(Add("x", 1).view().AsInt(-9), -3);
  EXPECT_TRUE(AllKeys().empty());
  std::vector<std::string> args = {base(), "B", "0", "0", "x", "1"};
  const auto first = job("0", "*");
  args.insert(args.end(), first.begin(), first.end());
  EXPECT_TRUE(Eval("batch_commit", broker::BatchCommitKeys(q()), args).view().is_error());
  // A flow's key, or an id that exists.
  Eval("flow_commit", broker::FlowCommitKeys(q()),
       {base(), "F", "0", "1", "r", "", "fail", "F.r", kMemberBody, "0:0:-1", "0"});
  auto keys = AllKeys();
  EXPECT_EQ(Create(1, {}, false, "F").view().AsInt(-9), -2);
  Enqueue("B.0");
  EXPECT_EQ(Create(1, {}).view().AsInt(-9), -2);
  EXPECT_FALSE(Exists(q().flow("B")));
}

TEST_F(BatchScriptTest, CallbacksRunOnceEveryMemberCompletedWithTheCounts) {
  ASSERT_EQ(Create(3, {"on_complete", "on_success"}).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  CompleteAll(tokens, {Id("0"), Id("1")});  // one call, two members: counted together
  EXPECT_EQ(Record("j:*"), "w:3:1:2:0:0:0:0");
  EXPECT_EQ(ZMembers(q().held()).size(), 2u);
  EXPECT_FALSE(HExists(q().hooks(), Id("0")));
  EXPECT_FALSE(Exists(q().flow_results("B", "*")));  // a batch keeps no member's result
  CompleteAll(tokens, {Id("2")});
  EXPECT_EQ(Record("j:*"), "r:3:0:3:0:0:0:0");
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("on_success"), Id("on_complete")}));
  EXPECT_EQ(CountsOf("on_complete"), R"(c{"total":3,"completed":3,"dead":0})");
  EXPECT_EQ(CountsOf("on_success"), R"(c{"total":3,"completed":3,"dead":0})");
  EXPECT_EQ(Record("st"), "finished");
  EXPECT_EQ(Record("oc"), "r");
  EXPECT_EQ(Record("sd"), "1");
  EXPECT_EQ(Run({"PTTL", q().flow("B")}).view().AsInt(), -1);  // kept for the callbacks
  // A callback's own finish counts nowhere; once both finished, the retention runs.
  tokens = ClaimTokens();
  CompleteAll(tokens, {Id("on_complete")});
  EXPECT_EQ(Run({"PTTL", q().flow("B")}).view().AsInt(), -1);
  CompleteAll(tokens, {Id("on_success")});
  EXPECT_EQ(Record("j:*"), "r:3:0:3:0:0:0:0");
  EXPECT_GT(Run({"PTTL", q().flow("B")}).view().AsInt(), 0);
  EXPECT_GT(Run({"PTTL", q().flow_results("B", "on_complete")}).view().AsInt(), 0);
  EXPECT_EQ(HLen(q().hooks()), 0);
}

TEST_F(BatchScriptTest, ADeathFailsOnSuccessAndARetryRevivesIt) {
  ASSERT_EQ(Create(2, {"on_complete", "on_success"}).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  FailJob(Id("0"), tokens[Id("0")], -1);
  EXPECT_EQ(StateOf(Id("on_success")).state, "dead");  // at once
  EXPECT_NE(ErrorOf(Id("on_success")).find("cancelled: batch job B.0 died"), std::string::npos);
  EXPECT_EQ(Record("j:*"), "f:2:1:0:1:0:0:0");
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("on_complete")}));
  CompleteAll(tokens, {Id("1")});
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("on_complete")}));
  EXPECT_EQ(CountsOf("on_complete"), R"(c{"total":2,"completed":1,"dead":1})");
  EXPECT_EQ(Record("st"), "finished");

  // Retrying the dead member revives on_success; the batch runs again, and on_complete, which
  // was released once, is not released again.
  ASSERT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("0")}).view().AsInt(), 1);
  EXPECT_EQ(StateOf(Id("on_success")).state, "held");
  EXPECT_EQ(Record("j:*"), "w:2:1:1:0:0:0:0");
  EXPECT_EQ(Record("st"), "running");
  EXPECT_EQ(Run({"PTTL", q().flow("B")}).view().AsInt(), -1);
  tokens = ClaimTokens();
  ASSERT_EQ(tokens.size(), 2u);  // on_complete and the retried member
  CompleteAll(tokens, {Id("0")});
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("on_success")}));
  EXPECT_EQ(CountsOf("on_success"), R"(c{"total":2,"completed":2,"dead":0})");
  EXPECT_EQ(Record("st"), "finished");
}

TEST_F(BatchScriptTest, ARetriedOnSuccessRunsOnceTheBatchSettled) {
  ASSERT_EQ(Create(2, {"on_success"}).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  FailJob(Id("0"), tokens[Id("0")], -1);
  ASSERT_EQ(StateOf(Id("on_success")).state, "dead");
  // Run it anyway: held again with an override, released when the last member settles.
  ASSERT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("on_success")}).view().AsInt(),
            1);
  EXPECT_EQ(StateOf(Id("on_success")).state, "held");
  EXPECT_EQ(Record("j:*"), "w:2:1:0:1:0:0:1");
  CompleteAll(tokens, {Id("1")});
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("on_success")}));
  EXPECT_EQ(CountsOf("on_success"), R"(c{"total":2,"completed":1,"dead":1})");
}

TEST_F(BatchScriptTest, AnOpenBatchTakesAdditionsAndWaitsForItsClose) {
  ASSERT_EQ(Create(1, {"on_complete"}, true).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  CompleteAll(tokens, {Id("0")});
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("on_complete")}));  // open
  ASSERT_EQ(Add("x", 2).view().AsInt(-9), 1);
  EXPECT_EQ(Add("x", 2).view().AsInt(-9), 0);  // the same addition again: nothing
  EXPECT_EQ(Record("j:*"), "w:3:2:1:0:0:0:1");
  EXPECT_EQ(Record("a:x"), "2");
  EXPECT_EQ(Record("n"), "4");
  EXPECT_EQ(HGet(q().hooks(), Id("x-1")), "f\tB\t1\t*\t*\tfail");
  EXPECT_EQ(Close(), 1);
  EXPECT_EQ(Close(), 0);
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("on_complete")}));
  tokens = ClaimTokens();
  CompleteAll(tokens, {Id("x-0"), Id("x-1")});
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("on_complete")}));
  EXPECT_EQ(CountsOf("on_complete"), R"(c{"total":3,"completed":3,"dead":0})");
  EXPECT_EQ(Add("y", 1).view().AsInt(-9), -4);  // finished
  EXPECT_FALSE(HasBody(Id("y-0")));
  EXPECT_EQ(Eval("batch_close", broker::BatchCloseKeys(q()), {base(), "Z"}).view().AsInt(), -3);
}

TEST_F(BatchScriptTest, ClosingASettledBatchFinishesIt) {
  ASSERT_EQ(Create(0, {"on_complete"}, true).view().AsInt(-9), 1);
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("on_complete")}));
  EXPECT_EQ(Close(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("on_complete")}));
  EXPECT_EQ(CountsOf("on_complete"), R"(c{"total":0,"completed":0,"dead":0})");
  // A closed batch of no member finishes as it is written.
  ASSERT_EQ(Create(0, {"on_complete"}, false, "E").view().AsInt(-9), 1);
  EXPECT_EQ(HGet(q().flow("E"), "st"), "finished");
  EXPECT_EQ(StateOf("E.on_complete").state, "waiting");
  // A batch of no job at all: open, to be added to.
  ASSERT_EQ(Create(0, {}, true, "N").view().AsInt(-9), 1);
  EXPECT_EQ(HGet(q().flow("N"), "j:*"), "w:0:0:0:0:0:0:1");
  EXPECT_EQ(Add("x", 1, "N").view().AsInt(-9), 1);
  EXPECT_EQ(HGet(q().flow("N"), "j:*"), "w:1:1:0:0:0:0:1");
}

TEST_F(BatchScriptTest, CancelStopsEveryUnfinishedMemberAndTheCallbacks) {
  ASSERT_EQ(Create(4, {"on_complete", "on_success"}, true).view().AsInt(-9), 1);
  ASSERT_EQ(Add("x", 1).view().AsInt(-9), 1);
  auto tokens = ClaimTokens(3);  // B.0, B.1 and B.2 run; B.3 and B.x-0 wait
  ASSERT_EQ(tokens.count(Id("2")), 1u);
  CompleteAll(tokens, {Id("1")});
  ASSERT_EQ(Eval("remove", RemoveKeys(), {base(), Id("x-0"), "remove"}).view().AsInt(), 1);
  EXPECT_EQ(Record("j:*"), "f:5:3:1:1:0:0:0");  // the removal counts as a death
  EXPECT_EQ(Cancel(), 1);
  EXPECT_EQ(Cancel(), 0);
  EXPECT_TRUE(StateOf(Id("0")).cancel_requested);  // running: asked to stop
  EXPECT_EQ(StateOf(Id("0")).state, "active");
  EXPECT_EQ(StateOf(Id("3")).state, "dead");  // waiting: cancelled
  EXPECT_NE(ErrorOf(Id("3")).find("cancelled: batch cancelled"), std::string::npos);
  EXPECT_EQ(StateOf(Id("on_complete")).state, "dead");
  EXPECT_NE(ErrorOf(Id("on_complete")).find("cancelled: batch cancelled"), std::string::npos);
  EXPECT_EQ(StateOf(Id("on_success")).state, "dead");  // failed by the removal already
  EXPECT_EQ(Record("oc"), "x");
  EXPECT_EQ(Record("j:*"), "x:5:2:1:2:0:0:0");
  EXPECT_EQ(Record("st"), "running");  // two members still run
  EXPECT_TRUE(ZMembers(q().held()).empty());
  // The running members end; the batch then finishes, and no callback runs.
  FailJob(Id("0"), tokens[Id("0")], -1);
  CompleteAll(tokens, {Id("2")});
  EXPECT_EQ(Record("st"), "finished");
  EXPECT_EQ(Record("j:*"), "x:5:0:2:3:0:0:0");
  EXPECT_TRUE(List(q().wait()).empty());
  EXPECT_EQ(Add("y", 1).view().AsInt(-9), -4);
}

TEST_F(BatchScriptTest, AFlowIsNotReadAsABatchNorABatchAsAFlow) {
  ASSERT_EQ(Create(1, {"on_complete"}).view().AsInt(-9), 1);
  auto read = Eval("flow_read", broker::FlowReadKeys(q()), {base(), "B"});
  ASSERT_EQ(read.view().size(), 3u);
  auto nodes = read.view()[1];
  ASSERT_EQ(nodes.size(), 6u);  // the callback only
  EXPECT_EQ(nodes[0].str(), "on_complete");
  EXPECT_EQ(nodes[3].str(), "held");
}

// Finding 1a: a held on_success cancelled by remove.lua and then retried goes to waiting at once:
// it runs before the members settled, and even when a member then dies.
TEST_F(BatchScriptTest, ACancelledOnSuccessRetriedStillWaitsForTheMembers) {
  ASSERT_EQ(Create(2, {"on_success"}).view().AsInt(-9), 1);
  ASSERT_EQ(Eval("remove", RemoveKeys(), {base(), Id("on_success"), "cancel"}).view().AsInt(), 1);
  ASSERT_EQ(StateOf(Id("on_success")).state, "dead");
  ASSERT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("on_success")}).view().AsInt(),
            1);
  EXPECT_EQ(StateOf(Id("on_success")).state, "held");  // main: "waiting"
  auto tokens = ClaimTokens();
  EXPECT_EQ(tokens.count(Id("on_success")), 0u);  // main: claimed with the members
  FailJob(Id("0"), tokens[Id("0")], -1);
  EXPECT_EQ(StateOf(Id("on_success")).state, "dead");  // main: "active": it runs after a death
}

// Finding 1b: retrying a member revives an on_success the user had cancelled (a flow's cancelled
// parent is not revived: its join is 'x').
TEST_F(BatchScriptTest, RetryingAMemberDoesNotReviveACancelledOnSuccess) {
  ASSERT_EQ(Create(2, {"on_success"}).view().AsInt(-9), 1);
  ASSERT_EQ(Eval("remove", RemoveKeys(), {base(), Id("on_success"), "cancel"}).view().AsInt(), 1);
  auto tokens = ClaimTokens();
  FailJob(Id("0"), tokens[Id("0")], -1);
  ASSERT_EQ(Record("j:*"), "f:2:1:0:1:0:0:0");
  ASSERT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("0")}).view().AsInt(), 1);
  EXPECT_EQ(StateOf(Id("on_success")).state, "dead");  // main: "held"
  EXPECT_TRUE(ZMembers(q().held()).empty());
  tokens[Id("0")] = ClaimTokens().at(Id("0"));
  CompleteAll(tokens, {Id("0"), Id("1")});
  EXPECT_TRUE(List(q().wait()).empty());  // main: on_success runs
}

// Finding 1c: a cancelled on_complete leaves oc = w, and retried it runs at once, before the batch
// settled, without counts.
TEST_F(BatchScriptTest, ACancelledOnCompleteRetriedWaitsForTheBatch) {
  ASSERT_EQ(Create(2, {"on_complete"}).view().AsInt(-9), 1);
  ASSERT_EQ(Eval("remove", RemoveKeys(), {base(), Id("on_complete"), "cancel"}).view().AsInt(), 1);
  EXPECT_EQ(Record("oc"), "x");  // main: "w"
  ASSERT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("on_complete")}).view().AsInt(),
            1);
  EXPECT_EQ(StateOf(Id("on_complete")).state, "held");  // main: "waiting"
  auto tokens = ClaimTokens();
  EXPECT_EQ(tokens.count(Id("on_complete")), 0u);
  CompleteAll(tokens, {Id("0"), Id("1")});
  EXPECT_EQ(CountsOf("on_complete"), R"(c{"total":2,"completed":2,"dead":0})");
}

// Finding 2: retrying on_success directly once the batch finished persists the batch's keys
// (flow_keep) and nothing expires them again: they leak.
TEST_F(BatchScriptTest, ARetriedOnSuccessOfAFinishedBatchLetsItsKeysExpire) {
  ASSERT_EQ(Create(2, {"on_success"}).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  FailJob(Id("0"), tokens[Id("0")], -1);
  CompleteAll(tokens, {Id("1")});
  ASSERT_EQ(Record("st"), "finished");
  ASSERT_GT(Run({"PTTL", q().flow("B")}).view().AsInt(), 0);
  ASSERT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("on_success")}).view().AsInt(),
            1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("on_success")}));  // released
  EXPECT_EQ(Run({"PTTL", q().flow("B")}).view().AsInt(), -1);  // kept while it is to run
  tokens = ClaimTokens();
  CompleteAll(tokens, {Id("on_success")});
  EXPECT_GT(Run({"PTTL", q().flow("B")}).view().AsInt(), 0);
  EXPECT_GT(Run({"PTTL", q().flow_tree("B")}).view().AsInt(), 0);
  EXPECT_GT(Run({"PTTL", q().flow_results("B", "on_success")}).view().AsInt(), 0);
}

// Finding 3: a finished batch that runs again (a member retried) keeps sd = 1: CancelBatch answers
// "finished" (0) while it runs with on_success held, though ReadBatch says running.
TEST_F(BatchScriptTest, ARevivedBatchCanBeCancelled) {
  ASSERT_EQ(Create(2, {"on_complete", "on_success"}).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  FailJob(Id("0"), tokens[Id("0")], -1);
  CompleteAll(tokens, {Id("1")});
  ASSERT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("0")}).view().AsInt(), 1);
  ASSERT_EQ(Record("st"), "running");
  ASSERT_EQ(StateOf(Id("on_success")).state, "held");
  EXPECT_EQ(Cancel(), 1);                              // main: 0
  EXPECT_EQ(StateOf(Id("on_success")).state, "dead");  // main: still held
  EXPECT_EQ(StateOf(Id("0")).state, "dead");           // main: waiting
}

// Finding 4: the retention starts when the batch finishes, which is when its callbacks are only
// released: a callback with a delay longer than the retention runs after its counts expired.
TEST_F(BatchScriptTest, ACallbacksCountsOutliveItsDelay) {
  std::vector<std::string> args = {base(),
                                   "B",
                                   "1000",
                                   "0",
                                   "",
                                   "2",
                                   "0",
                                   "*",
                                   "fail",
                                   "B.0",
                                   kMemberBody,
                                   "0:0:-1",
                                   "on_complete",
                                   "^",
                                   "fail",
                                   "B.on_complete",
                                   kMemberBody,
                                   "0:60000:-1"};
  ASSERT_EQ(Eval("batch_commit", broker::BatchCommitKeys(q()), args).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  CompleteAll(tokens, {Id("0")});
  const double due = ZScore(q().delayed(), Id("on_complete"));
  ASSERT_GT(due, 0);
  const long long ttl = Run({"PTTL", q().flow_results("B", "on_complete")}).view().AsInt();
  EXPECT_TRUE(ttl == -1 || ttl > static_cast<long long>(due) - Now())  // main: 1000 < ~60000
      << ttl;
}

// An addition's id is 1..24 characters: its refs "<addition>-<i>" fit in 32.
TEST_F(BatchScriptTest, AnAdditionIdLeavesRoomForItsPositions) {
  ASSERT_EQ(Create(1, {"on_complete"}, true).view().AsInt(-9), 1);
  auto reply = Add(std::string(24, 'a'), 11);
  EXPECT_EQ(reply.view().AsInt(-9), 1) << reply.view().str();
  EXPECT_TRUE(HasBody(Id(std::string(24, 'a') + "-10")));
  EXPECT_TRUE(Add(std::string(25, 'a'), 1).view().is_error());
}

// A cancel in steps goes through the creation's members and each addition's, in order.
TEST_F(BatchScriptTest, ACancelInStepsReachesEveryMember) {
  ASSERT_EQ(Create(3, {"on_complete"}, true).view().AsInt(-9), 1);
  ASSERT_EQ(Add("y", 2).view().AsInt(-9), 1);
  ASSERT_EQ(Add("x", 2).view().AsInt(-9), 1);
  EXPECT_EQ(CancelStep(0, 2), (std::vector<long long>{1, 2}));
  EXPECT_EQ(StateOf(Id("1")).state, "dead");
  EXPECT_FALSE(HasState(Id("2")));                      // not reached yet: waiting
  EXPECT_EQ(StateOf(Id("on_complete")).state, "dead");  // the first step
  EXPECT_EQ(CancelStep(2, 2), (std::vector<long long>{1, 4}));
  EXPECT_EQ(StateOf(Id("x-0")).state, "dead");  // additions by id: x before y
  EXPECT_EQ(CancelStep(4, 2), (std::vector<long long>{1, 6}));
  EXPECT_EQ(StateOf(Id("y-0")).state, "dead");
  EXPECT_EQ(CancelStep(6, 2), (std::vector<long long>{1, 0}));
  EXPECT_EQ(StateOf(Id("y-1")).state, "dead");
  EXPECT_EQ(Record("j:*"), "x:7:0:0:7:0:0:1");
  EXPECT_EQ(Record("st"), "finished");
  EXPECT_TRUE(List(q().wait()).empty());
  EXPECT_EQ(Cancel(), 0);  // finished
  EXPECT_TRUE(Eval("batch_cancel", broker::BatchCancelKeys(q()), {base(), "B", "0", "0"})
                  .view()
                  .is_error());  // a limit of 0
}

}  // namespace
}  // namespace taskq::testing
