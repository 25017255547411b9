#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ProgressScriptTest : public ScriptTest {
 protected:
  struct Update {
    std::string id;
    std::string token;
    std::string progress;
    std::vector<std::string> lines;
  };
  broker::Reply Progress(const std::vector<Update>& updates, std::string max_logs = "100") {
    std::vector<std::string> args = {base(), max_logs};
    for (const auto& u : updates) {
      args.insert(args.end(), {u.id, u.token, u.progress, std::to_string(u.lines.size())});
      args.insert(args.end(), u.lines.begin(), u.lines.end());
    }
    return Eval("progress", ProgressKeys(), args);
  }
  broker::Reply ProgressRaw(const std::vector<std::string>& args) {
    std::vector<std::string> all = {base(), "100"};
    all.insert(all.end(), args.begin(), args.end());
    return Eval("progress", ProgressKeys(), all);
  }
};

TEST_F(ProgressScriptTest, StoresProgressAndAppendsLogLines) {
  Enqueue("a");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  auto state = StateRecord("a");
  EXPECT_EQ(Ints(Progress({{"a", token, R"({"pct":10})", {"l1", "l2"}}})),
            (std::vector<long long>{1}));
  EXPECT_EQ(ProgressOf("a"), R"({"pct":10})");
  EXPECT_EQ(List(q().job_logs("a")), (std::vector<std::string>{"l1", "l2"}));
  // "" leaves the progress as it was; no lines leave the log as it was
  EXPECT_EQ(Ints(Progress({{"a", token, "", {"l3"}}})), (std::vector<long long>{1}));
  EXPECT_EQ(ProgressOf("a"), R"({"pct":10})");
  EXPECT_EQ(Ints(Progress({{"a", token, R"({"pct":50})", {}}})), (std::vector<long long>{1}));
  EXPECT_EQ(ProgressOf("a"), R"({"pct":50})");
  EXPECT_EQ(List(q().job_logs("a")), (std::vector<std::string>{"l1", "l2", "l3"}));
  EXPECT_EQ(StateRecord("a"), state);  // progress never changes the state record
}

// Deleting a job finds its log through the set of jobs with lists (job_lists.lua), and a job that
// never logged costs the deletion nothing.
TEST_F(ProgressScriptTest, RetentionDeletesTheLogOfAJobThatLogged) {
  Enqueue("logged");
  Enqueue("quiet");
  auto claim = Claim(2);
  ASSERT_EQ(Ints(Progress({{"logged", TokenOf(claim, 0), "", {"l1"}}})),
            (std::vector<long long>{1}));
  EXPECT_EQ(Run({"SISMEMBER", q().with_lists(), "logged"}).view().AsInt(), 1);
  EXPECT_EQ(Run({"SCARD", q().with_lists()}).view().AsInt(), 1);
  auto completed = Eval("complete", CompleteKeys(),
                        {base(), "2", "0", "0", "logged", TokenOf(claim, 0), "null", "quiet",
                         TokenOf(claim, 1), "null"});  // keep none
  EXPECT_EQ(Ints(completed), (std::vector<long long>{1, 1}));
  ExpectNoTrace("logged");
  ExpectNoTrace("quiet");
  EXPECT_FALSE(Exists(q().with_lists()));
}

TEST_F(ProgressScriptTest, LogsAreTrimmedToTheNewestMaxLines) {
  Enqueue("a");
  auto claim = Claim(1);
  std::string token = TokenOf(claim, 0);
  Progress({{"a", token, "", {"1", "2", "3", "4", "5"}}}, "3");
  EXPECT_EQ(List(q().job_logs("a")), (std::vector<std::string>{"3", "4", "5"}));
  Progress({{"a", token, "", {"6"}}}, "3");
  EXPECT_EQ(List(q().job_logs("a")), (std::vector<std::string>{"4", "5", "6"}));
}

TEST_F(ProgressScriptTest, BatchOfJobsIsParsedByLineCount) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  auto reply = Progress(
      {{"a", TokenOf(claim, 0), "1", {"a1", "a2", "a3"}}, {"b", TokenOf(claim, 1), "2", {"b1"}}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1}));
  EXPECT_EQ(List(q().job_logs("a")), (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_EQ(List(q().job_logs("b")), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(ProgressOf("a"), "1");
  EXPECT_EQ(ProgressOf("b"), "2");
}

TEST_F(ProgressScriptTest, StaleTokenIsRejectedAndWritesNothing) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  std::string stale = StaleToken(TokenOf(claim, 0));
  auto before = Snapshot();
  auto reply = Progress({{"a", stale, "9", {"x"}}, {"a", "", "9", {"x"}}, {"ghost", "1", "9", {}}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0, 0, 0}));
  EXPECT_EQ(Snapshot(), before);

  // a stale update does not stop the next job of the batch
  reply = Progress({{"a", stale, "9", {"x"}}, {"b", TokenOf(claim, 1), "5", {"y"}}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0, 1}));
  EXPECT_FALSE(Exists(q().job_logs("a")));
  EXPECT_FALSE(HasProgress("a"));
  EXPECT_EQ(ProgressOf("b"), "5");
  EXPECT_EQ(List(q().job_logs("b")), (std::vector<std::string>{"y"}));

  // after completion the token is spent
  CompleteJob("b", TokenOf(claim, 1));
  EXPECT_EQ(Ints(Progress({{"b", TokenOf(claim, 1), "6", {"z"}}})), (std::vector<long long>{0}));
  EXPECT_EQ(ProgressOf("b"), "5");
  EXPECT_EQ(List(q().job_logs("b")), (std::vector<std::string>{"y"}));
}

TEST_F(ProgressScriptTest, RejectsBadArgumentsBeforeAnyWrite) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  const std::string a = TokenOf(claim, 0);
  const std::string b = TokenOf(claim, 1);
  auto before = Snapshot();
  EXPECT_TRUE(Progress({{"a", a, "1", {"x"}}}, "0").view().is_error());
  EXPECT_TRUE(Progress({{"a", a, "1", {"x"}}}, "x").view().is_error());
  EXPECT_TRUE(Progress({{"a", a, "1", {"x"}}}, "1.5").view().is_error());
  EXPECT_EQ(Snapshot(), before);
  // a valid update first: it must not be written either
  const std::vector<std::vector<std::string>> bad_second = {
      {"b", b, "2", "2", "only one line"},  // count beyond the arguments
      {"b", b, "2", "x"},                   // count not a number
      {"b", b, "2", "-1"},                  // negative count
      {"b", b, "2", "0.5", "l"},            // fractional count
      {"b", b, "2"},                        // no count
      {"b"},                                // truncated update
  };
  for (const auto& second : bad_second) {
    std::vector<std::string> args = {"a", a, "1", "1", "line"};
    args.insert(args.end(), second.begin(), second.end());
    EXPECT_TRUE(ProgressRaw(args).view().is_error()) << second.size();
    EXPECT_EQ(Snapshot(), before);
  }
}

// The second update's count was checked only after the first update was written, so an error
// reply came back with the first job's progress and logs already stored.
TEST_F(ProgressScriptTest, RegressionBadLaterUpdateLeftEarlierOnesWritten) {
  Enqueue("a");
  auto claim = Claim(1);
  auto reply = ProgressRaw(
      {"a", TokenOf(claim, 0), "1", "1", "line", "a", TokenOf(claim, 0), "2", "3", "one"});
  EXPECT_TRUE(reply.view().is_error());
  EXPECT_FALSE(HasProgress("a"));
  EXPECT_FALSE(Exists(q().progress()));
  EXPECT_FALSE(Exists(q().job_logs("a")));
}

}  // namespace
}  // namespace taskq::testing
