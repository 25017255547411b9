#include "script_fixture.h"

namespace taskq::testing {
namespace {

class GetJobScriptTest : public ScriptTest {
 protected:
  broker::Reply GetJob(const std::string& id) {
    return Eval("get_job", GetJobKeys(), {base(), id});
  }
  // The state record (element 1 of the reply), parsed.
  broker::StateRecord RecordOf(const broker::Reply& reply) {
    EXPECT_FALSE(reply.view()[kState].is_nil());
    auto record = broker::ParseStateRecord(reply.view()[kState].str());
    EXPECT_TRUE(record) << "malformed state record " << reply.view()[kState].str();
    return record.value_or(broker::StateRecord{});
  }
  static std::vector<std::string> Items(const broker::Reply& reply, size_t which) {
    std::vector<std::string> items;
    for (size_t i = 0; i < reply.view()[which].size(); ++i) {
      items.emplace_back(reply.view()[which][i].str());
    }
    return items;
  }
};

TEST_F(GetJobScriptTest, MissingJobIsNil) {
  auto reply = GetJob("ghost");
  ASSERT_TRUE(reply.view().is_array());
  ASSERT_EQ(reply.view().size(), 1u);
  EXPECT_TRUE(reply.view()[kBody].is_nil());
  EXPECT_TRUE(AllKeys().empty());
}

TEST_F(GetJobScriptTest, WaitingJobHasOnlyItsBody) {
  Enqueue("a");
  auto reply = GetJob("a");
  ASSERT_EQ(reply.view().size(), 10u);
  EXPECT_EQ(reply.view()[kBody].str(), BodyOf("a"));
  EXPECT_TRUE(std::string(reply.view()[kBody].str()).ends_with(R"("t":"email","d":{}})"));
  EXPECT_TRUE(reply.view()[kState].is_nil());
  EXPECT_TRUE(reply.view()[kResult].is_nil());
  EXPECT_TRUE(reply.view()[kProgress].is_nil());
  EXPECT_TRUE(Items(reply, kErrors).empty());
  EXPECT_TRUE(Items(reply, kLogs).empty());
  EXPECT_TRUE(reply.view()[kDelayedDue].is_nil());
  EXPECT_TRUE(reply.view()[kRetryDue].is_nil());
}

TEST_F(GetJobScriptTest, DelayedJobReportsItsDueTimeAndPriority) {
  Enqueue("d", 3, 60000);
  auto reply = GetJob("d");
  ASSERT_EQ(reply.view().size(), 10u);
  EXPECT_EQ(reply.view()[kDelayedDue].AsInt(), static_cast<long long>(ZScore(q().delayed(), "d")));
  EXPECT_TRUE(reply.view()[kRetryDue].is_nil());
  const broker::StateRecord record = RecordOf(reply);
  EXPECT_EQ(record.state, "delayed");
  EXPECT_EQ(record.priority, 3);
  EXPECT_EQ(record.attempts, 0);
  EXPECT_TRUE(reply.view()[kResult].is_nil());
  EXPECT_TRUE(reply.view()[kProgress].is_nil());

  Enqueue("d0", 0, 60000);  // priority 0: no record, the delayed score tells
  reply = GetJob("d0");
  ASSERT_EQ(reply.view().size(), 10u);
  EXPECT_TRUE(reply.view()[kState].is_nil());
  EXPECT_EQ(reply.view()[kDelayedDue].AsInt(), static_cast<long long>(ZScore(q().delayed(), "d0")));
}

TEST_F(GetJobScriptTest, ActiveJobShowsLeaseProgressAndLogs) {
  Enqueue("a");
  auto claim = Claim(1);
  auto progress = Eval("progress", ProgressKeys(),
                       {base(), "10", "a", TokenOf(claim, 0), R"({"pct":40})", "2", "l1", "l2"});
  ASSERT_EQ(Ints(progress), (std::vector<long long>{1}));
  auto reply = GetJob("a");
  ASSERT_EQ(reply.view().size(), 10u);
  EXPECT_EQ(reply.view()[kState].str(), StateRecord("a").value_or("?"));
  const broker::StateRecord record = RecordOf(reply);
  EXPECT_EQ(record.state, "active");
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.token, TokenOf(claim, 0));
  EXPECT_EQ(record.started_ms, StateOf("a").started_ms);
  EXPECT_EQ(reply.view()[kProgress].str(), R"({"pct":40})");
  EXPECT_TRUE(reply.view()[kResult].is_nil());
  EXPECT_TRUE(Items(reply, kErrors).empty());
  EXPECT_EQ(Items(reply, kLogs), (std::vector<std::string>{"l1", "l2"}));
  EXPECT_TRUE(reply.view()[kDelayedDue].is_nil());
  EXPECT_TRUE(reply.view()[kRetryDue].is_nil());
}

TEST_F(GetJobScriptTest, RetryingJobShowsErrorsNewestFirstAndRetryDue) {
  Enqueue("a");
  FailJob("a", TokenOf(Claim(1), 0), 0, "first");
  FailJob("a", TokenOf(Claim(1), 0), 60000, "second");  // the claim promoted the due retry
  auto before = Snapshot();
  auto reply = GetJob("a");
  EXPECT_EQ(Snapshot(), before);  // reading changes nothing
  ASSERT_EQ(reply.view().size(), 10u);
  auto errors = Items(reply, kErrors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(errors[0].ends_with(R"("message":"second"})")) << errors[0];
  EXPECT_TRUE(errors[1].ends_with(R"("message":"first"})")) << errors[1];
  EXPECT_TRUE(reply.view()[kDelayedDue].is_nil());
  EXPECT_EQ(reply.view()[kRetryDue].AsInt(), static_cast<long long>(ZScore(q().retry(), "a")));
  const broker::StateRecord record = RecordOf(reply);
  EXPECT_EQ(record.state, "retrying");
  EXPECT_EQ(record.attempts, 2);
  EXPECT_EQ(record.token, "");
}

TEST_F(GetJobScriptTest, CompletedJobShowsResultAndFinishTime) {
  Enqueue("a");
  auto claim = Claim(1);
  CompleteJob("a", TokenOf(claim, 0), R"({"ok":1})");
  auto reply = GetJob("a");
  ASSERT_EQ(reply.view().size(), 10u);
  const broker::StateRecord record = RecordOf(reply);
  EXPECT_EQ(record.state, "completed");
  EXPECT_EQ(record.token, "");
  EXPECT_EQ(reply.view()[kResult].str(), R"({"ok":1})");
  EXPECT_EQ(static_cast<double>(record.finished_ms), ZScore(q().completed(), "a"));
}

TEST_F(GetJobScriptTest, CompletedJobWithNullResultHasNone) {
  Enqueue("a");
  auto claim = Claim(1);
  CompleteJob("a", TokenOf(claim, 0), "null");
  auto reply = GetJob("a");
  ASSERT_EQ(reply.view().size(), 10u);
  EXPECT_EQ(RecordOf(reply).state, "completed");
  EXPECT_TRUE(reply.view()[kResult].is_nil());
}

}  // namespace
}  // namespace taskq::testing
