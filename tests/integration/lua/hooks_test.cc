// Completion-callback hooks (include/hooks.lua) through the scripts that write them: enqueue
// ("h" options), complete, fail, recover and the deletions; and the outbox's take and ack.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

using Entry = OutboxEntry;

class HooksScriptTest : public ScriptTest {
 protected:
  // A job with a completion callback (its body names the URL, as the codec writes it).
  void EnqueueHooked(const std::string& id, const std::string& options = "h0:0:-1") {
    auto reply = Eval("enqueue", EnqueueKeys(),
                      {base(), "1", id, R"({"d":{},"o":{"cb":"https://r.example/cb"}})", options});
    ASSERT_EQ(Ints(reply).size(), 1u) << reply.view().str();
    ASSERT_GE(Ints(reply)[0], 1);  // created, waiting or delayed
  }
  std::vector<Entry> Outbox() { return OutboxOf(q()); }
  std::string ClaimOne(const std::string& expected_id) {
    auto claim = Claim(1);
    EXPECT_EQ(ClaimedIds(claim), (std::vector<std::string>{expected_id}));
    return TokenOf(claim, 0);
  }
  broker::Reply Take(const std::string& token, const std::string& max = "100") {
    return Eval("outbox_take", broker::OutboxKeys(q()), {token, "5000", max});
  }
  broker::Reply Ack(const std::string& token, std::vector<std::string> ids) {
    ids.insert(ids.begin(), token);
    return Eval("outbox_ack", broker::OutboxKeys(q()), ids);
  }
};

TEST_F(HooksScriptTest, EnqueueRecordsTheHookOfCreatedJobsOnly) {
  EnqueueHooked("a");
  EnqueueHooked("b", "h5:60000:-1");  // priority 5, delayed
  Enqueue("plain");
  EXPECT_EQ(HField(q().hooks(), "a"), "u");
  EXPECT_EQ(HField(q().hooks(), "b"), "u");
  EXPECT_FALSE(HExists(q().hooks(), "plain"));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "plain"}));
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"b"}));
  // The id exists: nothing is created, and the hook stays as it was.
  Run({"HDEL", q().hooks(), "a"});
  auto again = Eval("enqueue", EnqueueKeys(), {base(), "1", "a", R"({"d":{}})", "h0:0:-1"});
  EXPECT_EQ(Ints(again), (std::vector<long long>{0}));
  EXPECT_FALSE(HExists(q().hooks(), "a"));
}

TEST_F(HooksScriptTest, EnqueueRefusesAnHWithNothingAfterIt) {
  const auto before = Snapshot();
  auto reply = Eval("enqueue", EnqueueKeys(), {base(), "1", "a", R"({"d":{}})", "h"});
  EXPECT_TRUE(reply.view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(HooksScriptTest, CompletionWritesOneEntryAndDropsTheHook) {
  EnqueueHooked("a");
  Enqueue("plain");
  const std::string token = ClaimOne("a");
  const std::string body = BodyOf("a");
  CompleteJob("a", token, R"({"sent":1})");
  const std::string plain = ClaimOne("plain");
  CompleteJob("plain", plain);
  const auto entries = Outbox();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].fields.at("k"), "cb");
  EXPECT_EQ(entries[0].fields.at("id"), "a");
  EXPECT_EQ(entries[0].fields.at("o"), "completed");
  EXPECT_EQ(entries[0].fields.at("t"), std::to_string(StateOf("a").finished_ms));
  EXPECT_EQ(entries[0].fields.at("b"), body);
  EXPECT_EQ(entries[0].fields.at("r"), R"({"sent":1})");
  EXPECT_FALSE(Exists(q().hooks()));  // its only hook is gone
}

TEST_F(HooksScriptTest, ACompletionWithAStaleTokenWritesNothing) {
  EnqueueHooked("a");
  const std::string token = ClaimOne("a");
  auto reply =
      Eval("complete", CompleteKeys(), {base(), "1", "-1", "0", "a", StaleToken(token), "null"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0}));
  EXPECT_TRUE(Outbox().empty());
  EXPECT_EQ(HField(q().hooks(), "a"), "u");
}

TEST_F(HooksScriptTest, TheEntryCarriesTheResultOfTheAcceptedCompletion) {
  EnqueueHooked("a");
  const std::string token = ClaimOne("a");
  // The same id twice: a stale completion first (refused), then the one holding the lease.
  auto reply =
      Eval("complete", CompleteKeys(),
           {base(), "2", "-1", "0", "a", StaleToken(token), R"("stale")", "a", token, R"("good")"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0, 1}));
  const auto entries = Outbox();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].fields.at("r"), R"("good")");
}

TEST_F(HooksScriptTest, RetentionThatDeletesTheJobAtOnceStillReportsIt) {
  EnqueueHooked("a");
  const std::string token = ClaimOne("a");
  // keep_count 0: the completed job is deleted by the same call.
  auto reply = Eval("complete", CompleteKeys(), {base(), "1", "0", "0", "a", token, "7"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1}));
  EXPECT_FALSE(HasBody("a"));
  const auto entries = Outbox();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].fields.at("b").find("r.example"), std::string::npos);
  EXPECT_EQ(entries[0].fields.at("r"), "7");
}

TEST_F(HooksScriptTest, AFailureWithARetryWritesNothingAndDeathWritesTheError) {
  EnqueueHooked("a");
  std::string token = ClaimOne("a");
  FailJob("a", token, 0, "first");  // retrying
  EXPECT_TRUE(Outbox().empty());
  Run({"ZADD", q().retry(), "XX", "0", "a"});  // due
  token = ClaimOne("a");
  FailJob("a", token, -1, "last");
  const auto entries = Outbox();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].fields.at("o"), "dead");
  EXPECT_NE(entries[0].fields.at("r").find(R"("message":"last")"), std::string::npos);
  EXPECT_EQ(entries[0].fields.at("r").rfind(R"({"at":)", 0), 0u);
  // A dead job keeps its hook: retried from dead, its next finish is reported too.
  EXPECT_EQ(HField(q().hooks(), "a"), "u");
  auto retried = Eval("retry_dead", RetryDeadKeys(), {base(), "10", "a"});
  EXPECT_EQ(retried.view().integer(), 1);
  token = ClaimOne("a");
  CompleteJob("a", token);
  const auto after = Outbox();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].fields.at("o"), "completed");
  EXPECT_EQ(after[1].fields.at("r"), "null");
  EXPECT_FALSE(HExists(q().hooks(), "a"));
}

TEST_F(HooksScriptTest, RecoveryToDeadWritesAnEntryAndARequeueDoesNot) {
  EnqueueHooked("a");
  EnqueueHooked("b");
  ClaimOne("a");
  ClaimOne("b");
  PatchState("a", {{"s", "1"}});  // one stall already: the next one kills it with max_stalls 1
  Run({"ZADD", q().active(), "0", "a", "0", "b"});  // both leases expired
  auto reply = Eval("recover", RecoverKeys(), {base(), "1", "100", "10", "-1", "0"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1}));
  const auto entries = Outbox();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].fields.at("id"), "a");
  EXPECT_EQ(entries[0].fields.at("o"), "dead");
  EXPECT_NE(entries[0].fields.at("r").find("lease expired 2 times"), std::string::npos);
}

TEST_F(HooksScriptTest, DeletingAJobDropsItsHook) {
  EnqueueHooked("a");
  EnqueueHooked("b");
  auto reply = Eval("remove", RemoveKeys(), {base(), "a", "remove"});
  EXPECT_EQ(reply.view().integer(), 1);
  EXPECT_FALSE(HExists(q().hooks(), "a"));
  EXPECT_EQ(HField(q().hooks(), "b"), "u");
  EXPECT_TRUE(Outbox().empty());  // a removal is no finish
}

TEST_F(HooksScriptTest, TakeHandsEntriesToOneTokenAtATimeAndAckDeletesThem) {
  EXPECT_EQ(Take("r1").view().size(), 0u);
  EXPECT_FALSE(Exists(q().outbox_lease()));  // nothing taken, no lease
  for (const char* id : {"a", "b", "c"}) {
    EnqueueHooked(id);
    CompleteJob(id, ClaimOne(id));
  }
  auto first = Take("r1", "2");
  ASSERT_EQ(first.view().size(), 2u);
  EXPECT_EQ(Get(q().outbox_lease()), "r1");
  EXPECT_GT(Run({"PTTL", q().outbox_lease()}).view().integer(), 0);
  EXPECT_EQ(Take("r2").view().size(), 0u);  // r1 holds the lease
  EXPECT_EQ(Take("r1").view().size(), 3u);  // its own lease: renewed
  const std::string e1(first.view()[0][0].str()), e2(first.view()[1][0].str());
  EXPECT_EQ(Ack("r1", {e1, e2}).view().integer(), 2);
  EXPECT_FALSE(Exists(q().outbox_lease()));
  EXPECT_EQ(Ack("r1", {e1, e2}).view().integer(), 0);  // repeated: changes nothing
  auto rest = Take("r2");
  ASSERT_EQ(rest.view().size(), 1u);
  EXPECT_EQ(rest.view()[0][1][3].str(), "c");  // fields k, cb, id, c, ...
  // Another token's ack deletes the entries but leaves r2's lease.
  EXPECT_EQ(Ack("r9", {std::string(rest.view()[0][0].str())}).view().integer(), 1);
  EXPECT_EQ(Get(q().outbox_lease()), "r2");
}

TEST_F(HooksScriptTest, TakeAndAckRefuseBadArgumentsWithoutWriting) {
  EnqueueHooked("a");
  CompleteJob("a", ClaimOne("a"));
  const auto before = Snapshot();
  for (const std::vector<std::string>& args : {std::vector<std::string>{"", "5000", "10"},
                                               {std::string(65, 't'), "5000", "10"},
                                               {"t", "0", "10"},
                                               {"t", "60001", "10"},
                                               {"t", "5000", "0"},
                                               {"t", "5000", "1001"},
                                               {"t", "5000", "1.5"},
                                               {"t", "x", "10"},
                                               {"t", "5000"}}) {
    EXPECT_TRUE(Eval("outbox_take", broker::OutboxKeys(q()), args).view().is_error());
  }
  EXPECT_TRUE(Ack("", {}).view().is_error());
  EXPECT_TRUE(Ack("t", {"1-0", "nope"}).view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
