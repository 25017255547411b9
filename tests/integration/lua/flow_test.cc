// flow_commit.lua and flow_read.lua, and the flow steps of the finishing, cancelling and retrying
// scripts (lua/include/flows.lua).
#include "script_fixture.h"

namespace taskq::testing {
namespace {

struct FlowJobArg {
  std::string ref;
  std::string parent;
  std::string policy = "fail";
  std::string options = "0:0:-1";
};

class FlowScriptTest : public ScriptTest {
 protected:
  static std::string Id(const std::string& ref) { return "F." + ref; }
  broker::Reply Commit(const std::vector<FlowJobArg>& jobs, const std::string& u = "F",
                       const std::string& keep = "60000") {
    std::vector<std::string> args = {base(), u, keep, std::to_string(jobs.size())};
    for (const FlowJobArg& job : jobs) {
      args.insert(args.end(), {job.ref, job.parent, job.policy, u + "." + job.ref,
                               R"({"t":"email","d":{}})", job.options});
    }
    args.push_back("0");  // no job of another queue (flow_remote_test.cc)
    return Eval("flow_commit", broker::FlowCommitKeys(q()), args);
  }
  // r <- {a, b}, a <- {a1}: leaves b and a1.
  void CommitTree(const std::string& a1_policy = "fail", const std::string& a_options = "0:0:-1") {
    auto reply =
        Commit({{"r", ""}, {"a", "r", "fail", a_options}, {"b", "r"}, {"a1", "a", a1_policy}});
    ASSERT_EQ(reply.view().AsInt(-9), 1) << reply.view().str();
  }
  std::string Record(const std::string& field) { return HGet(q().flow("F"), field); }
  std::string Join(const std::string& ref) { return Record("j:" + ref); }
  // Claims every waiting job; returns id -> token.
  void CompleteWith(const std::string& id, const std::string& token, const std::string& result) {
    auto reply = Eval("complete", CompleteKeys(), {base(), "1", "-1", "0", id, token, result});
    ASSERT_EQ(Ints(reply), (std::vector<long long>{1})) << reply.view().str();
  }
  std::string ErrorOf(const std::string& id) {
    auto errors = List(q().job_errors(id));
    return errors.empty() ? "" : errors.front();
  }
};

TEST_F(FlowScriptTest, CommitQueuesTheLeavesAndHoldsTheParents) {
  auto wakes = ListenForWakes();
  CommitTree();
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("b"), Id("a1")}));
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("a"), Id("r")}));
  EXPECT_EQ(StateOf(Id("a")).state, "held");
  EXPECT_EQ(StateOf(Id("r")).state, "held");
  EXPECT_FALSE(HasState(Id("b")));  // priority 0, waiting: as enqueue.lua writes it
  EXPECT_EQ(Record("st"), "running");
  EXPECT_EQ(Record("n"), "4");
  EXPECT_EQ(Join("r"), "w:2:2:0:0:0:0:0");
  EXPECT_EQ(Join("a"), "w:1:1:0:0:0:0:0");
  EXPECT_FALSE(HExists(q().flow("F"), "j:b"));
  EXPECT_EQ(HGet(q().flow_tree("F"), "a1"), "a\tfail");
  EXPECT_EQ(HGet(q().flow_tree("F"), "r"), "\tfail");
  EXPECT_EQ(Record("g"), "1");  // the first flow of the queue
  EXPECT_EQ(HGet(q().meta(), "flows"), "1");
  EXPECT_EQ(HGet(q().hooks(), Id("a1")), "f\tF\t1\ta1\ta\tfail");
  EXPECT_EQ(HGet(q().hooks(), Id("a")), "f\tF\t1\ta\tr\tfail\t0:-1:0");
  EXPECT_EQ(HGet(q().meta(), "enqueued"), "4");
  EXPECT_TRUE(BodyOf(Id("a")).starts_with(R"({"c":)"));
  EXPECT_EQ(CountWakes(*wakes), 1);

  // The same flow again changes nothing; another flow whose ids exist is a conflict.
  EXPECT_EQ(Commit({{"r", ""}}).view().AsInt(-9), 0);
  Enqueue("G.x");
  EXPECT_EQ(Commit({{"x", ""}}, "G").view().AsInt(-9), -2);
  EXPECT_FALSE(Exists(q().flow("G")));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("b"), Id("a1"), "G.x"}));
}

TEST_F(FlowScriptTest, ABadFlowIsRefusedWithNothingWritten) {
  const std::vector<std::vector<FlowJobArg>> bad = {
      {{"r", ""}, {"s", ""}},                    // two roots
      {{"r", "x"}},                              // no root, unknown parent
      {{"r", ""}, {"a", "b"}, {"b", "a"}},       // a cycle beside the root
      {{"r", ""}, {"a", "r", "sometimes"}},      // a policy
      {{"r", ""}, {"r", "r"}},                   // a repeated ref
      {{"r", "", "fail", "x:0:-1"}},             // a priority
      {{"r.1", ""}},                             // a ref with a dot
      {{"r", "", "fail", "0:315360000001:-1"}},  // a delay past 10 years
      {{"r", "", "fail", "0:1e14:-1"}},          // a delay in another notation
      {{"r", "", "fail", "0:0:7258118400001"}},  // a run-at past 2200
      {{"r", "", "fail", "0:inf:-1"}},           // not a number of ms
  };
  for (const auto& jobs : bad) {
    auto reply = Commit(jobs);
    EXPECT_TRUE(reply.view().is_error()) << jobs.size() << " " << jobs[0].ref;
    EXPECT_TRUE(AllKeys().empty());
  }
  EXPECT_TRUE(Commit({{"r", ""}}, "F", "315360000001").view().is_error());  // keep: 10 years
  EXPECT_TRUE(AllKeys().empty());
  SetLimits(0, 1000, 0, 0, 1000, 0, "", 0, 1);
  auto keys = AllKeys();
  auto full = Commit({{"r", ""}, {"a", "r"}, {"b", "r"}});  // two leaves past a maximum of 1
  ASSERT_TRUE(full.view().is_error());
  EXPECT_TRUE(full.view().str().starts_with("QUEUEFULL ")) << full.view().str();
  EXPECT_EQ(AllKeys(), keys);
}

TEST_F(FlowScriptTest, ParentsRunOnceTheirChildrenCompletedWithTheirResults) {
  CommitTree();
  auto tokens = ClaimTokens();
  ASSERT_EQ(tokens.size(), 2u);
  CompleteWith(Id("a1"), tokens[Id("a1")], R"({"x":1})");
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("a")}));  // released
  EXPECT_EQ(StateOf(Id("a")).state, "waiting");
  EXPECT_EQ(Join("a"), "r:1:0:1:0:0:0:0");
  EXPECT_EQ(HGet(q().flow_results("F", "a"), "a1"), R"(c{"x":1})");
  EXPECT_FALSE(HExists(q().hooks(), Id("a1")));  // completed: its hook is done
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("r")}));

  CompleteWith(Id("b"), tokens[Id("b")], "null");
  EXPECT_EQ(Join("r"), "w:2:1:1:0:0:0:0");  // a still to run
  tokens = ClaimTokens();
  CompleteWith(Id("a"), tokens[Id("a")], R"("done")");
  EXPECT_EQ(Join("r"), "r:2:0:2:0:0:0:0");
  EXPECT_EQ(HGet(q().flow_results("F", "r"), "b"), "cnull");
  tokens = ClaimTokens();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(Run({"PTTL", q().flow("F")}).view().AsInt(), -1);  // kept while the flow runs
  CompleteWith(Id("r"), tokens[Id("r")], "null");
  EXPECT_EQ(Record("st"), "completed");
  EXPECT_NE(Record("f"), "0");
  for (const std::string& key : {q().flow("F"), q().flow_tree("F"), q().flow_results("F", "r")}) {
    EXPECT_GT(Run({"PTTL", key}).view().AsInt(), 0) << key;  // its retention runs
  }
  EXPECT_EQ(HLen(q().hooks()), 0);
}

TEST_F(FlowScriptTest, AFatalDeathFailsItsParentAndUpTheTreeAndARetryRevivesThem) {
  CommitTree();
  auto tokens = ClaimTokens();
  FailJob(Id("a1"), tokens[Id("a1")], -1);
  EXPECT_EQ(StateOf(Id("a")).state, "dead");
  EXPECT_TRUE(StateOf(Id("a")).cancel_requested);
  EXPECT_NE(ErrorOf(Id("a")).find("cancelled: child F.a1 failed"), std::string::npos);
  EXPECT_EQ(StateOf(Id("r")).state, "dead");  // a's death is fatal to r in turn
  EXPECT_NE(ErrorOf(Id("r")).find("cancelled: child F.a failed"), std::string::npos);
  EXPECT_EQ(Join("a"), "f:1:0:0:1:0:0:0");
  EXPECT_EQ(Join("r"), "f:2:1:0:1:0:0:0");
  EXPECT_EQ(Record("st"), "dead");
  EXPECT_TRUE(ZMembers(q().held()).empty());
  EXPECT_EQ(StateOf(Id("b")).state, "active");  // a sibling runs on
  EXPECT_EQ(HGet(q().meta(), "dead"), "3");

  // Retrying the child revives both parents: no fatal death is left in either join.
  EXPECT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("a1")}).view().AsInt(), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("a1")}));
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("a"), Id("r")}));
  EXPECT_EQ(StateOf(Id("a")).state, "held");
  EXPECT_FALSE(StateOf(Id("a")).cancel_requested);
  EXPECT_EQ(Join("a"), "w:1:1:0:0:0:0:0");
  EXPECT_EQ(Join("r"), "w:2:2:0:0:0:0:0");
  EXPECT_EQ(Record("st"), "running");
  EXPECT_EQ(Run({"PTTL", q().flow("F")}).view().AsInt(), -1);
  CompleteWith(Id("b"), tokens[Id("b")], "null");
  tokens = ClaimTokens();
  CompleteWith(Id("a1"), tokens[Id("a1")], "null");
  EXPECT_EQ(StateOf(Id("a")).state, "waiting");
}

TEST_F(FlowScriptTest, ContinueShowsTheErrorAndIgnoreLeavesItOut) {
  for (const std::string policy : {"continue", "ignore"}) {
    Run({"FLUSHALL"});
    CommitTree(policy);
    auto tokens = ClaimTokens();
    FailJob(Id("a1"), tokens[Id("a1")], -1);
    EXPECT_EQ(StateOf(Id("a")).state, "waiting") << policy;
    const std::string join = policy == "continue" ? "r:1:0:0:0:0:1:0" : "r:1:0:0:0:1:0:0";
    EXPECT_EQ(Join("a"), join);
    auto stored = HField(q().flow_results("F", "a"), "a1");
    EXPECT_EQ(stored.has_value(), policy == "continue");
    if (stored) {
      EXPECT_TRUE(stored->starts_with(R"(d{"at":)")) << *stored;
    }
  }
}

TEST_F(FlowScriptTest, CancellingAParentCancelsEverythingUndecidedBelowIt) {
  CommitTree();
  auto tokens = ClaimTokens();  // a1 and b run
  CompleteWith(Id("b"), tokens[Id("b")], "null");
  auto remove = Eval("remove", RemoveKeys(), {base(), Id("r"), "cancel"});
  EXPECT_EQ(remove.view().AsInt(), 1);
  EXPECT_EQ(StateOf(Id("r")).state, "dead");
  EXPECT_EQ(StateOf(Id("a")).state, "dead");  // held: cancelled
  EXPECT_TRUE(StateOf(Id("a")).cancel_requested);
  EXPECT_EQ(StateOf(Id("a1")).state, "active");  // running: asked to stop
  EXPECT_TRUE(StateOf(Id("a1")).cancel_requested);
  EXPECT_EQ(StateOf(Id("b")).state, "completed");
  EXPECT_EQ(Join("r"), "x:2:0:1:1:0:0:0");
  EXPECT_EQ(Join("a"), "x:1:1:0:0:0:0:0");
  EXPECT_EQ(Record("st"), "dead");
  EXPECT_TRUE(ZMembers(q().held()).empty());
  // The running child fails when it stops: counted, and nothing is decided any more.
  FailJob(Id("a1"), tokens[Id("a1")], 1000);
  EXPECT_EQ(StateOf(Id("a1")).state, "dead");
  EXPECT_EQ(Join("a"), "x:1:0:0:1:0:0:0");
  EXPECT_EQ(Eval("remove", RemoveKeys(), {base(), Id("r"), "cancel"}).view().AsInt(), -1);
}

TEST_F(FlowScriptTest, RemovingAWaitingChildCountsItAndReleasesTheParent) {
  CommitTree("ignore");
  EXPECT_EQ(Eval("remove", RemoveKeys(), {base(), Id("a1"), "remove"}).view().AsInt(), 1);
  ExpectNoTrace(Id("a1"));
  EXPECT_FALSE(HExists(q().hooks(), Id("a1")));
  EXPECT_EQ(Join("a"), "r:1:0:0:0:1:0:0");
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("b"), Id("a")}));
  // A cancelled waiting child stays, dead and cancelled.
  EXPECT_EQ(Eval("remove", RemoveKeys(), {base(), Id("b"), "cancel"}).view().AsInt(), 1);
  EXPECT_EQ(StateOf(Id("b")).state, "dead");
  EXPECT_TRUE(StateOf(Id("b")).cancel_requested);
  EXPECT_EQ(Join("r"), "f:2:1:0:1:0:0:0");  // b's policy is fail: r goes dead
  EXPECT_EQ(StateOf(Id("r")).state, "dead");
}

TEST_F(FlowScriptTest, RetryingAFailedParentRunsItWithItsChildrensFailures) {
  CommitTree();
  auto tokens = ClaimTokens();
  FailJob(Id("a1"), tokens[Id("a1")], -1);
  ASSERT_EQ(StateOf(Id("a")).state, "dead");
  EXPECT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("a")}).view().AsInt(), 1);
  EXPECT_EQ(Join("a"), "r:1:0:0:1:0:0:1");  // overridden, and nothing left to settle
  EXPECT_EQ(StateOf(Id("a")).state, "waiting");
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{Id("a")}));
  // a is pending again in r's join, which then has no fatal death left: r is revived.
  EXPECT_EQ(Join("r"), "w:2:2:0:0:0:0:0");
  EXPECT_EQ(StateOf(Id("r")).state, "held");
}

TEST_F(FlowScriptTest, ADelayedParentCountsItsDelayFromItsRelease) {
  CommitTree("fail", "0:600000:-1");
  auto tokens = ClaimTokens();
  const long long before = Now();
  CompleteWith(Id("a1"), tokens[Id("a1")], "null");
  EXPECT_EQ(StateOf(Id("a")).state, "delayed");
  EXPECT_GE(ZScore(q().delayed(), Id("a")), before + 600000);
}

TEST_F(FlowScriptTest, ReadGivesEveryJobsStateAndTheJoins) {
  EXPECT_EQ(Eval("flow_read", broker::FlowReadKeys(q()), {base(), "F"}).view().size(), 0u);
  CommitTree();
  auto tokens = ClaimTokens();
  CompleteWith(Id("b"), tokens[Id("b")], "null");
  auto reply = Eval("flow_read", broker::FlowReadKeys(q()), {base(), "F"});
  ASSERT_EQ(reply.view().size(), 3u);
  std::map<std::string, std::string> states;
  const auto nodes = reply.view()[1];
  for (size_t i = 0; i + 5 < nodes.size(); i += 6) {
    EXPECT_EQ(nodes[i + 5].str(), "");  // every job in the flow's queue
    states[std::string(nodes[i].str())] =
        std::string(nodes[i + 1].str()) + "/" + std::string(nodes[i + 3].str());
  }
  EXPECT_EQ(states,
            (std::map<std::string, std::string>{
                {"r", "/held"}, {"a", "r/held"}, {"b", "r/completed"}, {"a1", "a/active"}}));
}

TEST_F(FlowScriptTest, KeysExpireOnlyOnceNoParentIsHeld) {
  // r <- {a (fail), p (continue) <- c (delayed)}: a's death ends the flow while p waits for c.
  ASSERT_EQ(
      Commit({{"r", ""}, {"a", "r"}, {"p", "r", "continue"}, {"c", "p", "fail", "0:600000:-1"}},
             "F", "200")
          .view()
          .AsInt(-9),
      1);
  auto tokens = ClaimTokens();
  FailJob(Id("a"), tokens[Id("a")], -1);
  ASSERT_EQ(Record("st"), "dead");
  EXPECT_EQ(Run({"PTTL", q().flow("F")}).view().AsInt(), -1);  // p is still held
  Run({"ZADD", q().delayed(), "XX", "1", Id("c")});
  tokens = ClaimTokens();
  CompleteWith(Id("c"), tokens[Id("c")], "7");
  EXPECT_EQ(StateOf(Id("p")).state, "waiting");  // counted: released
  for (const std::string& key : {q().flow("F"), q().flow_tree("F"), q().flow_results("F", "p"),
                                 q().flow_results("F", "r")}) {
    const long long ttl = Run({"PTTL", key}).view().AsInt();
    EXPECT_GT(ttl, 0) << key;  // nothing is held now: the retention runs, on every key
    EXPECT_LE(ttl, 200) << key;
  }
  // A result written afterwards expires with the rest.
  tokens = ClaimTokens();
  CompleteWith(Id("p"), tokens[Id("p")], "null");
  EXPECT_GT(Run({"PTTL", q().flow_results("F", "r")}).view().AsInt(), 0);
}

TEST_F(FlowScriptTest, ARevivalInAFinishedFlowKeepsItsKeys) {
  // r <- p (continue) <- c (fail): c's death fails p, r runs and completes; then c is retried.
  ASSERT_EQ(Commit({{"r", ""}, {"p", "r", "continue"}, {"c", "p"}}, "F", "60000").view().AsInt(-9),
            1);
  auto tokens = ClaimTokens();
  FailJob(Id("c"), tokens[Id("c")], -1);
  tokens = ClaimTokens();
  CompleteWith(Id("r"), tokens[Id("r")], "null");
  ASSERT_EQ(Record("st"), "completed");
  ASSERT_GT(Run({"PTTL", q().flow("F")}).view().AsInt(), 0);
  EXPECT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("c")}).view().AsInt(), 1);
  EXPECT_EQ(StateOf(Id("p")).state, "held");
  // (The retried outcomes left the results: those hashes are gone until written again.)
  for (const std::string& key : {q().flow("F"), q().flow_tree("F")}) {
    EXPECT_EQ(Run({"PTTL", key}).view().AsInt(), -1) << key;
  }
  tokens = ClaimTokens();
  CompleteWith(Id("c"), tokens[Id("c")], "null");
  EXPECT_EQ(StateOf(Id("p")).state, "waiting");
  EXPECT_GT(Run({"PTTL", q().flow("F")}).view().AsInt(), 0);
}

TEST_F(FlowScriptTest, AJobOfAnEarlierFlowWithTheSameKeyCountsInNoLaterOne) {
  ASSERT_EQ(Commit({{"r", ""}, {"c", "r"}}).view().AsInt(-9), 1);
  auto tokens = ClaimTokens();
  // The old flow's keys go (expired), and its root is removed; its child c still runs.
  Run({"DEL", q().flow("F"), q().flow_tree("F")});
  ASSERT_EQ(Eval("remove", RemoveKeys(), {base(), Id("r"), "remove"}).view().AsInt(), 1);
  ASSERT_EQ(Commit({{"r", ""}, {"p", "r"}, {"z", "p"}}).view().AsInt(-9), 1);
  EXPECT_EQ(Record("g"), "2");
  CompleteWith(Id("c"), tokens[Id("c")], "null");
  EXPECT_EQ(Join("r"), "w:1:1:0:0:0:0:0");  // the old child is not the new flow's
  EXPECT_EQ(Join("p"), "w:1:1:0:0:0:0:0");
}

TEST_F(FlowScriptTest, ADebounceNeverReplacesAHeldParent) {
  // A ttl-mode key whose holder id a flow's parent took later.
  Eval("enqueue", EnqueueKeys(), {base(), "1", Id("p"), R"({"d":{}})", "0:0:-1|ttl:600000:K"});
  ASSERT_EQ(Eval("remove", RemoveKeys(), {base(), Id("p"), "remove"}).view().AsInt(), 1);
  ASSERT_EQ(Commit({{"r", ""}, {"p", "r"}, {"c", "p"}}).view().AsInt(-9), 1);
  auto reply =
      Eval("enqueue", EnqueueKeys(), {base(), "1", "x", R"({"d":{}})", "0:0:-1|debounce:0:K"});
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(StateOf(Id("p")).state, "held");
  EXPECT_EQ(ZMembers(q().held()), (std::vector<std::string>{Id("p"), Id("r")}));
}

}  // namespace
}  // namespace taskq::testing
