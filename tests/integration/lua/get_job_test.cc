#include "script_fixture.h"

namespace taskq::testing {
namespace {

class GetJobScriptTest : public ScriptTest {
 protected:
  broker::Reply GetJob(const std::string& id) {
    return Eval("get_job", {q().delayed(), q().retry()}, {base(), id});
  }
  // The state fields (element 1 of the reply) as a map.
  static std::map<std::string, std::string> Fields(const broker::Reply& reply) {
    std::map<std::string, std::string> fields;
    auto v = reply.view()[1];
    for (size_t i = 0; i + 1 < v.size(); i += 2) fields[std::string(v[i].str())] = v[i + 1].str();
    return fields;
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
  EXPECT_TRUE(reply.view()[0].is_nil());
  EXPECT_TRUE(AllKeys().empty());
}

TEST_F(GetJobScriptTest, WaitingJobHasOnlyItsBody) {
  Enqueue("a");
  auto reply = GetJob("a");
  ASSERT_EQ(reply.view().size(), 6u);
  EXPECT_EQ(reply.view()[0].str(), Get(q().job("a")));
  EXPECT_TRUE(std::string(reply.view()[0].str()).ends_with(R"("t":"email","d":{}})"));
  EXPECT_TRUE(Fields(reply).empty());
  EXPECT_TRUE(Items(reply, 2).empty());
  EXPECT_TRUE(Items(reply, 3).empty());
  EXPECT_TRUE(reply.view()[4].is_nil());
  EXPECT_TRUE(reply.view()[5].is_nil());
}

TEST_F(GetJobScriptTest, DelayedJobReportsItsDueTimeAndPriority) {
  Enqueue("d", 3, 60000);
  auto reply = GetJob("d");
  ASSERT_EQ(reply.view().size(), 6u);
  EXPECT_EQ(reply.view()[4].AsInt(), static_cast<long long>(ZScore(q().delayed(), "d")));
  EXPECT_TRUE(reply.view()[5].is_nil());
  EXPECT_EQ(Fields(reply), (std::map<std::string, std::string>{{"p", "3"}}));
}

TEST_F(GetJobScriptTest, ActiveJobShowsLeaseProgressAndLogs) {
  Enqueue("a");
  auto claim = Claim(1);
  auto progress = Eval("progress", {q().meta()},
                       {base(), "10", "a", TokenOf(claim, 0), R"({"pct":40})", "2", "l1", "l2"});
  ASSERT_EQ(Ints(progress), (std::vector<long long>{1}));
  auto reply = GetJob("a");
  ASSERT_EQ(reply.view().size(), 6u);
  auto fields = Fields(reply);
  EXPECT_EQ(fields["st"], "active");
  EXPECT_EQ(fields["a"], "1");
  EXPECT_EQ(fields["tk"], TokenOf(claim, 0));
  EXPECT_EQ(fields["pr"], R"({"pct":40})");
  EXPECT_EQ(fields["ts"], HGet(q().job_state("a"), "ts"));
  EXPECT_EQ(Items(reply, 3), (std::vector<std::string>{"l1", "l2"}));
  EXPECT_TRUE(reply.view()[4].is_nil());
  EXPECT_TRUE(reply.view()[5].is_nil());
}

TEST_F(GetJobScriptTest, RetryingJobShowsErrorsNewestFirstAndRetryDue) {
  Enqueue("a");
  FailJob("a", TokenOf(Claim(1), 0), 0, "first");
  FailJob("a", TokenOf(Claim(1), 0), 60000, "second");  // the claim promoted the due retry
  auto before = Snapshot();
  auto reply = GetJob("a");
  EXPECT_EQ(Snapshot(), before);  // reading changes nothing
  ASSERT_EQ(reply.view().size(), 6u);
  auto errors = Items(reply, 2);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(errors[0].ends_with(R"("message":"second"})")) << errors[0];
  EXPECT_TRUE(errors[1].ends_with(R"("message":"first"})")) << errors[1];
  EXPECT_TRUE(reply.view()[4].is_nil());
  EXPECT_EQ(reply.view()[5].AsInt(), static_cast<long long>(ZScore(q().retry(), "a")));
  auto fields = Fields(reply);
  EXPECT_EQ(fields["st"], "retrying");
  EXPECT_EQ(fields["a"], "2");
  EXPECT_EQ(fields["tk"], "");
}

TEST_F(GetJobScriptTest, CompletedJobShowsResultAndFinishTime) {
  Enqueue("a");
  auto claim = Claim(1);
  auto done = Eval("complete", {q().active(), q().completed(), q().meta()},
                   {base(), "1", "-1", "0", "a", TokenOf(claim, 0), R"({"ok":1})"});
  ASSERT_EQ(Ints(done), (std::vector<long long>{1}));
  auto fields = Fields(GetJob("a"));
  EXPECT_EQ(fields["st"], "completed");
  EXPECT_EQ(fields["r"], R"({"ok":1})");
  EXPECT_EQ(std::stod(fields["tf"]), ZScore(q().completed(), "a"));
}

}  // namespace
}  // namespace taskq::testing
