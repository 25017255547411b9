// overrun.lua: the mark of a running job whose attempt passed its timeout while its handler still
// runs, and its clearing; release, recover and deletion drop marks too.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class OverrunScriptTest : public ScriptTest {
 protected:
  broker::Reply Overrun(const std::vector<std::string>& triples) {
    return Eval("overrun", OverrunKeys(), triples);
  }
  std::string Mark(const std::string& id) { return HGet(q().overrun(), id); }
};

TEST_F(OverrunScriptTest, MarksARunningJobWithItsTokenTimeAndTimeout) {
  Enqueue("a");
  const std::string token = TokenOf(Claim(1), 0);
  const long long before = Now();
  EXPECT_EQ(Ints(Overrun({"a", token, "5000"})), (std::vector<long long>{1}));
  const long long after = Now();
  const std::string mark = Mark("a");
  ASSERT_TRUE(mark.starts_with(token + ":")) << mark;
  ASSERT_TRUE(mark.ends_with(":5000")) << mark;
  const long long since = std::stoll(mark.substr(token.size() + 1));
  EXPECT_GE(since, before);
  EXPECT_LE(since, after);
  EXPECT_EQ(HGet(q().meta(), "overran"), "1");
  // Marking again (a resent round trip) keeps the first mark and counts once.
  EXPECT_EQ(Ints(Overrun({"a", token, "9000"})), (std::vector<long long>{1}));
  EXPECT_EQ(Mark("a"), mark);
  EXPECT_EQ(HGet(q().meta(), "overran"), "1");
  // The job itself is untouched: still active under the same lease.
  EXPECT_EQ(StateOf("a").state, "active");
  EXPECT_EQ(StateOf("a").token, token);
}

TEST_F(OverrunScriptTest, AStaleTokenOrAFinishedJobIsNotMarked) {
  Enqueue("a");
  Enqueue("b");
  auto claim = Claim(2);
  const std::string token = TokenOf(claim, 0);
  CompleteJob("b", token);
  auto reply = Overrun(
      {"a", StaleToken(token), "100", "b", token, "100", "nobody", token, "100", "a", "", "100"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0, 0, 0, 0}));
  EXPECT_FALSE(Exists(q().overrun()));
  EXPECT_EQ(HGet(q().meta(), "overran"), "");
}

TEST_F(OverrunScriptTest, ClearRemovesOnlyTheMarkOfThatToken) {
  Enqueue("a");
  const std::string token = TokenOf(Claim(1), 0);
  ASSERT_EQ(Ints(Overrun({"a", token, "100"})), (std::vector<long long>{1}));
  EXPECT_EQ(Ints(Overrun({"a", StaleToken(token), "0"})), (std::vector<long long>{0}));
  EXPECT_FALSE(Mark("a").empty());
  // The clear needs no lease: the handler returned, whatever became of the job meanwhile.
  CompleteJob("a", token);
  EXPECT_EQ(Ints(Overrun({"a", token, "0"})), (std::vector<long long>{1}));
  EXPECT_FALSE(Exists(q().overrun()));
  EXPECT_EQ(Ints(Overrun({"a", token, "0"})), (std::vector<long long>{0}));
}

// A handler that returns right after its timeout: the mark and its clear go in one call, and
// apply in order (the clear finds the mark made just before it).
TEST_F(OverrunScriptTest, AMarkAndItsClearInOneCallLeaveNoMark) {
  Enqueue("a");
  const std::string token = TokenOf(Claim(1), 0);
  EXPECT_EQ(Ints(Overrun({"a", token, "100", "a", token, "0"})), (std::vector<long long>{1, 1}));
  EXPECT_FALSE(Exists(q().overrun()));
  EXPECT_EQ(HGet(q().meta(), "overran"), "1");
  // And a clear before a mark in one call leaves the mark.
  EXPECT_EQ(Ints(Overrun({"a", token, "0", "a", token, "100"})), (std::vector<long long>{0, 1}));
  EXPECT_TRUE(Mark("a").starts_with(token + ":"));
  EXPECT_EQ(HGet(q().meta(), "overran"), "2");
}

TEST_F(OverrunScriptTest, ReleaseRecoverAndDeletionDropMarks) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = Claim(3);
  const std::string token = TokenOf(claim, 0);
  ASSERT_EQ(Ints(Overrun({"a", token, "1", "b", token, "1", "c", token, "1"})),
            (std::vector<long long>{1, 1, 1}));
  // release (a worker stopping hands a back)
  EXPECT_EQ(Eval("release", ReleaseKeys(), {base(), "a", token}).view().AsInt(), 1);
  EXPECT_EQ(Mark("a"), "");
  // recover (b's lease expired)
  Run({"ZADD", q().active(), "XX", std::to_string(Now() - 1), "b"});
  ASSERT_EQ(Ints(Eval("recover", RecoverKeys(), {base(), "10", "100", "10", "-1", "0"})),
            (std::vector<long long>{1, 0}));
  EXPECT_EQ(Mark("b"), "");
  // c finished without its mark cleared (its worker died between the two): retention deletes the
  // job, and the mark with it.
  EXPECT_FALSE(Mark("c").empty());
  auto reply = Eval("complete", CompleteKeys(), {base(), "1", "0", "0", "c", token, "null"});
  ASSERT_EQ(Ints(reply), (std::vector<long long>{1}));
  EXPECT_FALSE(Exists(q().overrun()));
}

TEST_F(OverrunScriptTest, RejectsBadArgumentsBeforeWriting) {
  Enqueue("a");
  const std::string token = TokenOf(Claim(1), 0);
  auto before = Snapshot();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"a", token},
                                             {"a", token, "-1"},
                                             {"a", token, "1.5"},
                                             {"a", token, "soon"},
                                             {"a", token, "10", "", token, "10"},
                                             {"a", token, "10", "b", token}}) {
    EXPECT_TRUE(Overrun(args).view().is_error()) << ::testing::PrintToString(args);
  }
  std::vector<std::string> many;
  for (int i = 0; i < 1001; ++i) many.insert(many.end(), {"a", token, "10"});
  EXPECT_TRUE(Overrun(many).view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
