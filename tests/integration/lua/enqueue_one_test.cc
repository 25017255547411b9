#include "script_fixture.h"

namespace taskq::testing {
namespace {

class EnqueueOneScriptTest : public ScriptTest {
 protected:
  broker::Reply EnqueueOne(const std::string& id, const std::string& body) {
    return Eval("enqueue_one", EnqueueOneKeys(), {base(), id, body});
  }
  long long Outcome(const broker::Reply& reply) { return reply.view().integer(); }
};

TEST_F(EnqueueOneScriptTest, StoresBodyWithCreatedTimeQueuesWakesAndRecordsAnEvent) {
  auto wakes = ListenForWakes();
  const long long before = Now();
  EXPECT_EQ(Outcome(EnqueueOne("a", R"({"t":"email","d":{"x":1}})")), 1);
  const long long after = Now();
  const std::string body = BodyOf("a");
  ASSERT_TRUE(body.starts_with("{\"c\":")) << body;
  const long long created = std::stoll(body.substr(5));
  EXPECT_GE(created, before);
  EXPECT_LE(created, after);
  EXPECT_TRUE(body.ends_with(R"(,"t":"email","d":{"x":1}})")) << body;
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(Exists(q().state()));  // a waiting job has no state record (memory)
  EXPECT_EQ(CountWakes(*wakes), 1);
  auto events = Run({"XRANGE", q().events(), "-", "+"});
  ASSERT_EQ(events.view().size(), 1u);
  EXPECT_EQ(events.view()[0][1][1].str(), "enqueued");
  EXPECT_EQ(events.view()[0][1][5].str(), "a");
}

TEST_F(EnqueueOneScriptTest, ExistingIdChangesNothing) {
  ASSERT_EQ(Outcome(EnqueueOne("a", R"({"d":{"v":1}})")), 1);
  auto wakes = ListenForWakes();
  const auto before = Snapshot();
  EXPECT_EQ(Outcome(EnqueueOne("a", R"({"d":{"v":2}})")), 0);
  Enqueue("b");
  Claim(1);  // a is active now
  const auto active = Snapshot();
  EXPECT_EQ(Outcome(EnqueueOne("a", R"({"d":{"v":3}})")), 0);
  EXPECT_EQ(Snapshot(), active);
  EXPECT_NE(before, active);
  EXPECT_EQ(CountWakes(*wakes), 1);  // b's only
}

TEST_F(EnqueueOneScriptTest, RejectsBadArgumentsBeforeAnyWrite) {
  for (const auto& [id, body] : std::vector<std::pair<std::string, std::string>>{
           {"", R"({"d":{}})"}, {"a", "not json"}, {"a", "{}"}, {"a", "[1]"}}) {
    auto reply = EnqueueOne(id, body);
    EXPECT_TRUE(reply.view().is_error()) << id << " " << body;
    EXPECT_TRUE(AllKeys().empty()) << id << " " << body;
  }
  EXPECT_TRUE(Eval("enqueue_one", EnqueueOneKeys(), {base(), "a"}).view().is_error());
  EXPECT_TRUE(
      Eval("enqueue_one", EnqueueOneKeys(), {base(), "a", R"({"d":{}})", "x"}).view().is_error());
  EXPECT_TRUE(AllKeys().empty());
}

// A queue that takes each job's group from a data field, or ages priorities, needs enqueue.lua:
// the script says so and writes nothing.
TEST_F(EnqueueOneScriptTest, LeavesQueuesWithAGroupFieldOrAgingToEnqueue) {
  for (const char* field : {"gf", "ag"}) {
    Run({"DEL", q().meta()});
    Run({"HSET", q().meta(), field, "1000"});
    const auto before = Snapshot();
    EXPECT_EQ(Outcome(EnqueueOne("a", R"({"d":{"tenant":"x"}})")), -1) << field;
    EXPECT_EQ(Snapshot(), before) << field;
  }
}

// A producer names the layout version it placed the job by (shard_layout.lua): any other than
// meta.sv, or none on a queue that has one, is refused with the queue's version, writing nothing.
TEST_F(EnqueueOneScriptTest, RefusesALayoutVersionOtherThanTheQueues) {
  Run({"HSET", q().meta(), "sv", "4"});
  auto wakes = ListenForWakes();
  const auto before = Snapshot();
  const std::string body = R"({"d":{}})";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {base(), "a", body}, {base(), "a", body, "3"}, {base(), "a", body, "5"}}) {
    const std::string what = args.size() == 3 ? "none" : args[3];
    auto reply = Eval("enqueue_one", EnqueueOneKeys(), args);
    ASSERT_TRUE(reply.view().is_error()) << what;
    EXPECT_TRUE(reply.view().str().starts_with("LAYOUT 4")) << what << ": " << reply.view().str();
    EXPECT_EQ(Snapshot(), before) << what;
  }
  EXPECT_EQ(CountWakes(*wakes), 0);
  EXPECT_EQ(Outcome(Eval("enqueue_one", EnqueueOneKeys(), {base(), "a", body, "4"})), 1);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(HasBody("a"));
  EXPECT_EQ(HGet(q().meta(), "enqueued"), "1");
  EXPECT_EQ(CountWakes(*wakes), 1);
}

// A queue never sharded has no sv: a producer naming a version has read a layout that is gone.
TEST_F(EnqueueOneScriptTest, RefusesAVersionOnAQueueWithoutOne) {
  auto reply = Eval("enqueue_one", EnqueueOneKeys(), {base(), "a", R"({"d":{}})", "1"});
  ASSERT_TRUE(reply.view().is_error());
  EXPECT_TRUE(reply.view().str().starts_with("LAYOUT 0")) << reply.view().str();
  EXPECT_TRUE(AllKeys().empty());
}

}  // namespace
}  // namespace taskq::testing
