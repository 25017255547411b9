// Flows across queues (lua/include/flows.lua, "Flows across queues"): flow_commit.lua with jobs
// of another queue, flow_deliver.lua and flow_apply.lua, and the reports of the finishing,
// cancelling and retrying scripts. The flow's queue is "q" (the fixture's), the other one "p";
// the tests move outbox entries between them as the relay does (worker/callback_relay.h).
#include "script_fixture.h"

namespace taskq::testing {
namespace {

struct RemoteJobArg {
  std::string ref;
  std::string parent;
  std::string queue;  // empty: the flow's queue
  std::string policy = "fail";
};

class FlowRemoteScriptTest : public ScriptTest {
 protected:
  static std::string Id(const std::string& ref) { return "F." + ref; }
  const broker::QueueKeys home_{"taskq", "q"};
  const broker::QueueKeys other_{"taskq", "p"};

  broker::Reply Commit(const std::vector<RemoteJobArg>& jobs, const std::string& keep = "60000") {
    UseQueue("q");
    std::vector<std::string> args = {base(), "F", keep, std::to_string(jobs.size())};
    std::vector<std::string> remote;
    for (const RemoteJobArg& job : jobs) {
      args.insert(args.end(), {job.ref, job.parent, job.policy, Id(job.ref),
                               R"({"t":"email","d":{}})", "0:0:-1"});
      if (!job.queue.empty()) remote.insert(remote.end(), {job.ref, job.queue});
    }
    args.push_back(std::to_string(remote.size() / 2));
    args.insert(args.end(), remote.begin(), remote.end());
    return Eval("flow_commit", broker::FlowCommitKeys(q()), args);
  }
  // r (q) <- {a (p) <- {a1 (p)}, b (p), c (q)}: a is parked in q; a1 and b are dispatched.
  void CommitTree(const std::string& a1_policy = "fail") {
    auto reply = Commit(
        {{"r", ""}, {"a", "r", "p"}, {"a1", "a", "p", a1_policy}, {"b", "r", "p"}, {"c", "r"}});
    ASSERT_EQ(reply.view().AsInt(-9), 1) << reply.view().str();
  }

  using Entry = OutboxEntry;
  std::vector<Entry> Outbox(const broker::QueueKeys& keys) { return OutboxOf(keys); }
  static std::string FieldOf(const Entry& e, const std::string& name) {
    auto it = e.fields.find(name);
    return it == e.fields.end() ? "" : it->second;
  }
  // Applies the entries in `target` as the broker does (RedisBroker::ApplyFlowEntries); returns
  // the script's reply.
  broker::Reply Apply(const broker::QueueKeys& target, const std::string& source,
                      const std::vector<Entry>& entries) {
    const bool delivery =
        FieldOf(entries.front(), "k") == "fd" || FieldOf(entries.front(), "k") == "fx";
    std::vector<std::string> args = {target.base(), source, std::to_string(entries.size())};
    for (const Entry& e : entries) {
      const std::string kind = FieldOf(e, "k");
      if (delivery) {
        const bool dispatch = kind == "fd";
        const std::string keep = FieldOf(e, "keep");
        args.insert(args.end(),
                    {kind, FieldOf(e, "u"), FieldOf(e, "g"), keep.empty() ? "0" : keep,
                     dispatch ? "" : FieldOf(e, "e"), FieldOf(e, "ref"), FieldOf(e, "p"),
                     FieldOf(e, "pol"), dispatch ? FieldOf(e, "u") + "." + FieldOf(e, "ref") : "",
                     FieldOf(e, "b"), FieldOf(e, "o")});
      } else {
        args.insert(args.end(), {kind, FieldOf(e, "u"), FieldOf(e, "g"), FieldOf(e, "ref"),
                                 FieldOf(e, "e"), FieldOf(e, "o"), FieldOf(e, "r")});
      }
    }
    return Eval(delivery ? "flow_deliver" : "flow_apply", broker::FlowEntryKeys(target), args);
  }
  // Relays every entry of `from`'s outbox to `to` and deletes them; returns how many applied.
  long long Relay(const broker::QueueKeys& from, const broker::QueueKeys& to) {
    auto entries = Outbox(from);
    if (entries.empty()) return 0;
    auto reply = Apply(to, from.queue(), entries);
    EXPECT_FALSE(reply.view().is_error()) << reply.view().str();
    for (const Entry& e : entries) Run({"XDEL", from.outbox(), e.id});
    return reply.view().AsInt(-9);
  }
  std::string Record(const std::string& field) { return HGet(home_.flow("F"), field); }
  std::string Join(const std::string& ref) { return Record("j:" + ref); }
  // Claims, in `queue`, every waiting job; id -> token.
  std::map<std::string, std::string> ClaimIn(std::string_view queue) {
    UseQueue(queue);
    return ClaimTokens();
  }
  void CompleteIn(std::string_view queue, const std::string& id, const std::string& token,
                  const std::string& result) {
    UseQueue(queue);
    auto reply = Eval("complete", CompleteKeys(), {base(), "1", "-1", "0", id, token, result});
    ASSERT_EQ(Ints(reply), (std::vector<long long>{1})) << reply.view().str();
  }
  std::string StateIn(std::string_view queue, const std::string& id) {
    UseQueue(queue);
    return StateOf(id).state;
  }
};

TEST_F(FlowRemoteScriptTest, CommitParksRemoteParentsAndDispatchesRemoteLeaves) {
  CommitTree();
  // At home: the root held, c waiting, a parked (held, hook flag q), nothing of a1 or b.
  EXPECT_EQ(ZMembers(home_.held()), (std::vector<std::string>{Id("a"), Id("r")}));
  EXPECT_EQ(List(home_.wait()), (std::vector<std::string>{Id("c")}));
  EXPECT_EQ(HGet(home_.hooks(), Id("a")), "qf\tF\t1\ta\tr\tfail\t0:-1:0");
  EXPECT_FALSE(HExists(home_.jobs(), Id("a1")));
  EXPECT_FALSE(HExists(home_.jobs(), Id("b")));
  EXPECT_EQ(Record("o:a"), "p\t0:0:-1");
  EXPECT_EQ(Record("d:a1"), "0:p");
  EXPECT_EQ(Record("d:b"), "0:p");
  EXPECT_FALSE(HExists(home_.flow("F"), "d:a"));
  EXPECT_EQ(Join("r"), "w:3:3:0:0:0:0:0");
  EXPECT_EQ(HGet(home_.flow_tree("F"), "a1"), "a\tfail\tp");
  EXPECT_EQ(HGet(home_.flow_tree("F"), "c"), "r\tfail");
  EXPECT_EQ(HGet(home_.meta(), "enqueued"), "2");  // r and c: a runs in p, and counts there
  auto entries = Outbox(home_);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(FieldOf(entries[0], "k"), "fd");
  EXPECT_EQ(FieldOf(entries[0], "q"), "p");
  EXPECT_EQ(FieldOf(entries[0], "ref"), "a1");
  EXPECT_TRUE(FieldOf(entries[0], "b").starts_with(R"({"c":)"));

  // Delivered: waiting in p with a remote hook; a second delivery writes nothing more.
  EXPECT_EQ(Relay(home_, other_), 2);
  EXPECT_EQ(List(other_.wait()), (std::vector<std::string>{Id("a1"), Id("b")}));
  EXPECT_EQ(HGet(other_.hooks(), Id("b")), "f\tq:F\t1\tb\tr\tfail\t0");
  EXPECT_EQ(HGet(other_.base() + "rflow:q:F", "d:b"), "1");
  EXPECT_GT(Run({"PTTL", other_.base() + "rflow:q:F"}).view().AsInt(), 6LL * 24 * 3600 * 1000);
  const auto keys = AllKeys();
  EXPECT_EQ(Apply(other_, "q", entries).view().AsInt(-9), 0);
  EXPECT_EQ(List(other_.wait()), (std::vector<std::string>{Id("a1"), Id("b")}));
  EXPECT_EQ(AllKeys(), keys);
}

TEST_F(FlowRemoteScriptTest, RemoteFinishesCountOnceAndReleaseTheParkedParentToItsQueue) {
  CommitTree();
  Relay(home_, other_);
  auto tokens = ClaimIn("p");
  ASSERT_EQ(tokens.size(), 2u);
  CompleteIn("p", Id("a1"), tokens[Id("a1")], R"({"n":1})");
  EXPECT_FALSE(HExists(other_.hooks(), Id("a1")));
  auto reports = Outbox(other_);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(FieldOf(reports[0], "k"), "ff");
  EXPECT_EQ(FieldOf(reports[0], "q"), "q");
  EXPECT_EQ(FieldOf(reports[0], "o"), "completed");

  // Counted at home: a is released, which for a parked parent is a dispatch to p.
  EXPECT_EQ(Relay(other_, home_), 1);
  EXPECT_EQ(Join("a"), "r:1:0:1:0:0:0:0");
  EXPECT_EQ(Record("d:a1"), "0:c");
  EXPECT_EQ(HGet(home_.flow_results("F", "a"), "a1"), R"(c{"n":1})");
  EXPECT_FALSE(HExists(home_.jobs(), Id("a")));
  EXPECT_FALSE(HExists(home_.state(), Id("a")));
  EXPECT_TRUE(ZMembers(home_.held()) == (std::vector<std::string>{Id("r")}));
  EXPECT_EQ(Record("d:a"), "0:p");
  auto left = Run({"XREVRANGE", home_.events(), "+", "-", "COUNT", "1"});
  ASSERT_EQ(left.view().size(), 1u);
  EXPECT_EQ(left.view()[0][1][1].str(), "dispatched");  // the queue's views drop it
  EXPECT_EQ(left.view()[0][1][5].str(), Id("a"));
  // The same report again counts nothing.
  EXPECT_EQ(Apply(home_, "p", reports).view().AsInt(-9), 0);
  EXPECT_EQ(Join("a"), "r:1:0:1:0:0:0:0");
  // A report from a queue the tree does not name counts nothing either.
  EXPECT_EQ(Apply(home_, "elsewhere", reports).view().AsInt(-9), 0);

  EXPECT_EQ(Relay(home_, other_), 1);
  EXPECT_EQ(List(other_.wait()), (std::vector<std::string>{Id("a")}));
  EXPECT_EQ(HGet(other_.hooks(), Id("a")), "f\tq:F\t1\ta\tr\tfail\t0");

  // a, b (p) and c (q) complete: the root is released at home.
  auto more = ClaimIn("p");
  CompleteIn("p", Id("a"), more[Id("a")], "2");
  CompleteIn("p", Id("b"), tokens[Id("b")], "3");
  auto local = ClaimIn("q");
  CompleteIn("q", Id("c"), local[Id("c")], "4");
  EXPECT_EQ(Join("r"), "w:3:2:1:0:0:0:0");
  EXPECT_EQ(Relay(other_, home_), 2);
  EXPECT_EQ(Join("r"), "r:3:0:3:0:0:0:0");
  EXPECT_EQ(List(home_.wait()), (std::vector<std::string>{Id("r")}));
  EXPECT_EQ(HGet(home_.flow_results("F", "r"), "a"), "c2");
  EXPECT_EQ(HGet(home_.flow_results("F", "r"), "b"), "c3");
}

TEST_F(FlowRemoteScriptTest, ARemoteDeathFailsTheParkedParentAndARetryRevivesIt) {
  CommitTree();
  Relay(home_, other_);
  auto tokens = ClaimIn("p");
  FailJob(Id("a1"), tokens[Id("a1")], -1);
  auto death = Outbox(other_);
  ASSERT_EQ(death.size(), 1u);
  EXPECT_EQ(FieldOf(death[0], "o"), "dead");
  EXPECT_EQ(HGet(other_.hooks(), Id("a1")), "f\tq:F\t1\ta1\ta\tfail\t0");  // kept for a retry
  EXPECT_EQ(Relay(other_, home_), 1);
  // The parked parent fails at home, and its death fails the root.
  EXPECT_EQ(StateIn("q", Id("a")), "dead");
  EXPECT_EQ(StateIn("q", Id("r")), "dead");
  EXPECT_EQ(Join("a"), "f:1:0:0:1:0:0:0");
  EXPECT_EQ(Record("d:a1"), "0:d");
  EXPECT_TRUE(Outbox(home_).empty());  // b, a sibling, runs on

  // Retried in p: a new epoch, reported; home revives a and r.
  UseQueue("p");
  EXPECT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10", Id("a1")}).view().AsInt(), 1);
  EXPECT_EQ(HGet(other_.hooks(), Id("a1")), "f\tq:F\t1\ta1\ta\tfail\t1");
  auto retry = Outbox(other_);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(FieldOf(retry[0], "k"), "fr");
  EXPECT_EQ(FieldOf(retry[0], "e"), "1");
  EXPECT_EQ(Relay(other_, home_), 1);
  EXPECT_EQ(Record("d:a1"), "1:p");
  EXPECT_EQ(Join("a"), "w:1:1:0:0:0:0:0");
  EXPECT_EQ(StateIn("q", Id("a")), "held");
  EXPECT_EQ(StateIn("q", Id("r")), "held");
  // The old death, relayed again, is stale: epoch 0 is over.
  EXPECT_EQ(Apply(home_, "p", death).view().AsInt(-9), 0);
  EXPECT_EQ(Join("a"), "w:1:1:0:0:0:0:0");

  // a1 completes this time: a is released to p.
  auto again = ClaimIn("p");
  CompleteIn("p", Id("a1"), again[Id("a1")], "null");
  EXPECT_EQ(Relay(other_, home_), 1);
  EXPECT_EQ(Join("a"), "r:1:0:1:0:0:0:0");
  EXPECT_EQ(Relay(home_, other_), 1);
  EXPECT_EQ(List(other_.wait()), (std::vector<std::string>{Id("a")}));
}

TEST_F(FlowRemoteScriptTest, CancellingTheRootCancelsDispatchedJobsInTheirQueue) {
  CommitTree();
  Relay(home_, other_);
  auto tokens = ClaimIn("p");  // a1 and b run
  CompleteIn("p", Id("b"), tokens[Id("b")], "null");
  Relay(other_, home_);
  UseQueue("q");
  EXPECT_EQ(Eval("remove", RemoveKeys(), {base(), Id("r"), "cancel"}).view().AsInt(), 1);
  EXPECT_EQ(StateIn("q", Id("a")), "dead");  // parked: cancelled at home
  EXPECT_EQ(Join("a"), "x:1:1:0:0:0:0:0");
  auto cancels = Outbox(home_);
  ASSERT_EQ(cancels.size(), 1u);  // a1: b has completed
  EXPECT_EQ(FieldOf(cancels[0], "ref"), "a1");
  EXPECT_EQ(Relay(home_, other_), 1);
  UseQueue("p");
  EXPECT_TRUE(StateOf(Id("a1")).cancel_requested);  // running: asked to stop
  EXPECT_EQ(StateOf(Id("a1")).state, "active");
  EXPECT_TRUE(Outbox(other_).empty());
  // It stops: its death is reported and counted in the cancelled join.
  FailJob(Id("a1"), tokens[Id("a1")], 1000);
  EXPECT_EQ(StateOf(Id("a1")).state, "dead");
  EXPECT_EQ(Relay(other_, home_), 1);
  EXPECT_EQ(Join("a"), "x:1:0:0:1:0:0:0");
  // A cancel of a job that has finished changes nothing.
  EXPECT_EQ(Apply(other_, "q", cancels).view().AsInt(-9), 0);
}

TEST_F(FlowRemoteScriptTest, ADispatchToATakenIdReportsTheJobDead) {
  UseQueue("p");
  Enqueue(Id("b"));  // another job of p holds b's id
  ASSERT_EQ(Commit({{"r", ""}, {"b", "r", "p", "continue"}}).view().AsInt(-9), 1);
  const auto dispatch = Outbox(home_);
  EXPECT_EQ(Relay(home_, other_), 1);
  EXPECT_FALSE(HExists(other_.hooks(), Id("b")));  // the other job is left as it was
  // Applied again, the dispatch changes nothing: one report only.
  EXPECT_EQ(Apply(other_, "q", dispatch).view().AsInt(-9), 0);
  EXPECT_EQ(Outbox(other_).size(), 1u);
  EXPECT_EQ(List(other_.wait()), (std::vector<std::string>{Id("b")}));
  EXPECT_EQ(Relay(other_, home_), 1);
  EXPECT_EQ(Join("r"), "r:1:0:0:0:0:1:0");
  EXPECT_NE(HGet(home_.flow_results("F", "r"), "b").find("its id is taken"), std::string::npos);
  EXPECT_EQ(List(home_.wait()), (std::vector<std::string>{Id("r")}));
}

// Two flows with the same key in two queues, each with a job in the other: each queue holds the
// other flow's dispatched job under the id of its own remote child. A cancel touches neither.
TEST_F(FlowRemoteScriptTest, ACancelLeavesAnotherFlowsJobWithTheSameIdAlone) {
  ASSERT_EQ(Commit({{"r", ""}, {"x", "r", "p"}}).view().AsInt(-9), 1);  // F in q, F.x in p
  UseQueue("p");
  ASSERT_EQ(Eval("flow_commit", broker::FlowCommitKeys(other_),
                 {other_.base(), "F", "60000", "2", "r", "", "fail", "F.r", R"({"d":{}})", "0:0:-1",
                  "x", "r", "fail", "F.x", R"({"d":{}})", "0:0:-1", "1", "x", "q"})
                .view()
                .AsInt(-9),
            1);  // F in p, F.x in q
  EXPECT_EQ(Relay(home_, other_), 1);
  EXPECT_EQ(Relay(other_, home_), 1);
  EXPECT_EQ(List(home_.wait()), (std::vector<std::string>{Id("x")}));   // p's flow's job
  EXPECT_EQ(List(other_.wait()), (std::vector<std::string>{Id("x")}));  // q's flow's job

  // Cancelling q's flow cancels its own F.x in p, and leaves p's flow's F.x in q waiting.
  UseQueue("q");
  EXPECT_EQ(Eval("remove", RemoveKeys(), {base(), Id("r"), "cancel"}).view().AsInt(), 1);
  EXPECT_EQ(List(home_.wait()), (std::vector<std::string>{Id("x")}));
  auto cancels = Outbox(home_);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(FieldOf(cancels[0], "k"), "fx");
  EXPECT_EQ(Relay(home_, other_), 1);
  EXPECT_TRUE(List(other_.wait()).empty());
  EXPECT_EQ(Relay(other_, home_), 1);  // its death, counted once in the cancelled join
  EXPECT_EQ(Join("r"), "x:1:0:0:1:0:0:0");
  // The flow's view in q reads its own job's state from p, not the other job here.
  auto read = Eval("flow_read", broker::FlowReadKeys(home_), {home_.base(), "F"});
  const auto rows = read.view()[1];
  for (size_t i = 0; i + 5 < rows.size(); i += 6) {
    if (rows[i].str() == "x") {
      EXPECT_EQ(rows[i + 3].str(), "");  // not here: in p
    }
  }
}

// A dispatch of an earlier flow with the same key that comes late (a relay stalled past the
// flow's end) writes nothing: the job of that flow ran already.
TEST_F(FlowRemoteScriptTest, ALateDispatchOfAnEarlierGenerationWritesNothing) {
  ASSERT_EQ(Commit({{"r", ""}, {"x", "r", "p"}}, "1").view().AsInt(-9), 1);
  const auto first = Outbox(home_);  // fd x, generation 1
  EXPECT_EQ(Relay(home_, other_), 1);
  auto tokens = ClaimIn("p");
  CompleteIn("p", Id("x"), tokens[Id("x")], "null");
  EXPECT_EQ(Relay(other_, home_), 1);
  auto root = ClaimIn("q");
  CompleteIn("q", Id("r"), root[Id("r")], "null");
  // Retention deletes both jobs, and the flow's keys expire.
  Run({"HDEL", other_.jobs(), Id("x")});
  Run({"HDEL", home_.jobs(), Id("r")});
  Run({"DEL", home_.flow("F"), home_.flow_tree("F"), home_.flow_results("F", "r")});
  ASSERT_EQ(Commit({{"r", ""}, {"y", "r", "p"}}).view().AsInt(-9), 1);  // generation 2
  Run({"DEL", other_.outbox()});
  EXPECT_EQ(Relay(home_, other_), 1);
  const auto keys = AllKeys();
  EXPECT_EQ(Apply(other_, "q", first).view().AsInt(-9), 0);
  EXPECT_EQ(AllKeys(), keys);
  EXPECT_FALSE(HExists(other_.jobs(), Id("x")));
  EXPECT_EQ(HGet(other_.base() + "rflow:q:F", "d:y"), "1");
}

TEST_F(FlowRemoteScriptTest, BadArgumentsAreRefusedWithNothingWritten) {
  // A remote root, an unknown ref, a bad queue name.
  for (const auto& jobs : std::vector<std::vector<RemoteJobArg>>{
           {{"r", "", "p"}}, {{"r", ""}, {"a", "r", "-p"}}, {{"r", ""}, {"a", "r", "p q"}}}) {
    EXPECT_TRUE(Commit(jobs).view().is_error());
    EXPECT_TRUE(AllKeys().empty());
  }
  UseQueue("p");
  auto bad_deliver = Eval("flow_deliver", broker::FlowEntryKeys(other_),
                          {other_.base(), "q", "1", "fd", "F", "1", "0", "", "b", "", "fail", "F.b",
                           R"({"c":1})", "0:0:-1"});  // a dispatched root
  EXPECT_TRUE(bad_deliver.view().is_error());
  auto bad_apply = Eval("flow_apply", broker::FlowEntryKeys(home_),
                        {home_.base(), "p", "1", "ff", "F", "1", "b", "0", "maybe", "null"});
  EXPECT_TRUE(bad_apply.view().is_error());
  auto bad_retry = Eval("flow_apply", broker::FlowEntryKeys(home_),
                        {home_.base(), "p", "1", "fr", "F", "1", "b", "0", "", ""});  // epoch 0
  EXPECT_TRUE(bad_retry.view().is_error());
  EXPECT_TRUE(AllKeys().empty());
}

TEST_F(FlowRemoteScriptTest, ReadNamesEachJobsQueueAndJobStatesReadsThem) {
  CommitTree();
  Relay(home_, other_);
  auto reply = Eval("flow_read", broker::FlowReadKeys(home_), {home_.base(), "F"});
  ASSERT_EQ(reply.view().size(), 3u);
  std::map<std::string, std::string> nodes;
  const auto rows = reply.view()[1];
  for (size_t i = 0; i + 5 < rows.size(); i += 6) {
    nodes[std::string(rows[i].str())] =
        std::string(rows[i + 3].str()) + "@" + std::string(rows[i + 5].str());
  }
  EXPECT_EQ(nodes,
            (std::map<std::string, std::string>{
                {"r", "held@"}, {"a", "held@p"}, {"a1", "@p"}, {"b", "@p"}, {"c", "waiting@"}}));
  auto states = Eval("job_states", broker::JobStatesKeys(other_),
                     {other_.base(), Id("a1"), Id("b"), Id("zz")});
  ASSERT_EQ(states.view().size(), 6u);
  EXPECT_EQ(states.view()[0].str(), "waiting");
  EXPECT_EQ(states.view()[2].str(), "waiting");
  EXPECT_EQ(states.view()[4].str(), "");  // no such job
}

}  // namespace
}  // namespace taskq::testing
