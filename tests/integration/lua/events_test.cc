// The job events every state-changing script records (lua/include/events.lua): one stream entry
// per call that changed jobs, none for a call that changed nothing, capped near 1000 entries.
#include <chrono>
#include <thread>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

struct Event {
  std::string kind;
  long long count = 0;
  std::string ids;  // comma-separated, as stored
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << e.kind << "/" << e.count << "/" << e.ids;
}

class EventsScriptTest : public ScriptTest {
 protected:
  // Every entry of the queue's event stream, oldest first.
  std::vector<Event> Events() {
    std::vector<Event> out;
    auto reply = Run({"XRANGE", q().events(), "-", "+"});
    for (size_t i = 0; i < reply.view().size(); ++i) {
      auto fields = reply.view()[i][1];
      Event e;
      for (size_t f = 0; f + 1 < fields.size(); f += 2) {
        if (fields[f].str() == "e") e.kind = std::string(fields[f + 1].str());
        if (fields[f].str() == "n") e.count = fields[f + 1].AsInt();
        if (fields[f].str() == "ids") e.ids = std::string(fields[f + 1].str());
      }
      out.push_back(e);
    }
    return out;
  }
  // The entries added since the last call.
  std::vector<Event> NewEvents() {
    auto all = Events();
    std::vector<Event> fresh(all.begin() + static_cast<long>(seen_), all.end());
    seen_ = all.size();
    return fresh;
  }
  size_t seen_ = 0;
};

TEST_F(EventsScriptTest, EachTransitionRecordsItsJobs) {
  Enqueue("a");
  Enqueue("b", 5);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"enqueued", 1, "a"}, {"enqueued", 1, "b"}}));
  auto claim = Claim(2);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"active", 2, "a,b"}}));
  CompleteJob("a", TokenOf(claim, 0));
  FailJob("b", TokenOf(claim, 1), 60000);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"completed", 1, "a"}, {"retrying", 1, "b"}}));
  EXPECT_EQ(Eval("promote", PromoteKeys(), {base(), "b"}).view().integer(), 1);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"waiting", 1, "b"}}));
  auto again = Claim(1);
  FailJob("b", TokenOf(again, 0), -1);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"active", 1, "b"}, {"dead", 1, "b"}}));
  EXPECT_EQ(Eval("retry_dead", RetryDeadKeys(), {base(), "10"}).view().integer(), 1);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"waiting", 1, "b"}}));
  EXPECT_EQ(Eval("remove", RemoveKeys(), {base(), "b", "cancel"}).view().integer(), 1);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"removed", 1, "b"}}));
}

TEST_F(EventsScriptTest, PauseAndResumeAreQueueEventsWhenTheyChangeSomething) {
  EXPECT_EQ(Eval("pause", PauseKeys(), {base(), "1"}).view().integer(), 1);
  EXPECT_EQ(Eval("pause", PauseKeys(), {base(), "1"}).view().integer(), 0);
  EXPECT_EQ(Eval("pause", PauseKeys(), {base(), "0"}).view().integer(), 1);
  EXPECT_EQ(Eval("pause", PauseKeys(), {base(), "0"}).view().integer(), 0);
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"paused", 0, ""}, {"resumed", 0, ""}}));
}

TEST_F(EventsScriptTest, AClaimRecordsTheDueJobsItPromotes) {
  Enqueue("d", 0, 1);  // due in 1 ms
  NewEvents();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto claim = Claim(1);
  EXPECT_EQ(ClaimedIds(claim), (std::vector<std::string>{"d"}));
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"waiting", 1, "d"}, {"active", 1, "d"}}));
}

TEST_F(EventsScriptTest, ACallThatChangesNothingRecordsNothing) {
  Enqueue("a");
  auto claim = Claim(1);
  NewEvents();
  // A stale completion, an empty claim, a promote of a job that is not delayed, a duplicate id.
  EXPECT_EQ(Ints(Eval("complete", CompleteKeys(),
                      {base(), "1", "-1", "0", "a", StaleToken(TokenOf(claim, 0)), "null"})),
            (std::vector<long long>{0}));
  EXPECT_EQ(CountOf(Claim(5)), 0);
  EXPECT_EQ(Eval("promote", PromoteKeys(), {base(), "a"}).view().integer(), 0);
  Enqueue("a");
  EXPECT_TRUE(NewEvents().empty());
}

TEST_F(EventsScriptTest, ABulkCallIsOneEntryListingTheFirstHundredIds) {
  std::vector<std::string> argv = {base(), "150"};
  for (int i = 0; i < 150; ++i) {
    argv.push_back("j" + std::to_string(i));
    argv.push_back(R"({"t":"email","d":{}})");
    argv.push_back(i == 0 ? "0:60000:-1" : "");  // j0 is delayed: listed first
  }
  auto reply = Eval("enqueue", EnqueueKeys(), argv);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  auto events = NewEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "enqueued");
  EXPECT_EQ(events[0].count, 150);
  std::string expected = "j0";
  for (int i = 1; i < 100; ++i) expected += ",j" + std::to_string(i);
  EXPECT_EQ(events[0].ids, expected);
  EXPECT_EQ(CountOf(Claim(1000)), 149);
  EXPECT_EQ(NewEvents()[0].count, 149);
}

TEST_F(EventsScriptTest, APlainBulkIsOneEntryToo) {
  auto reply = Eval(
      "enqueue", EnqueueKeys(),
      {base(), "3", "p1", R"({"d":{}})", "", "p2", R"({"d":{}})", "", "p3", R"({"d":{}})", ""});
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(NewEvents(), (std::vector<Event>{{"enqueued", 3, "p1,p2,p3"}}));
}

TEST_F(EventsScriptTest, TheStreamIsCapped) {
  for (int i = 0; i < 1500; ++i) Enqueue("j" + std::to_string(i));
  const long long length = Run({"XLEN", q().events()}).view().integer();
  EXPECT_GE(length, 1000);
  EXPECT_LT(length, 1200);  // MAXLEN ~ trims whole nodes (100 entries by default)
  auto events = Events();
  EXPECT_EQ(events.back(), (Event{"enqueued", 1, "j1499"}));
}

}  // namespace
}  // namespace taskq::testing
