#include "script_fixture.h"

namespace taskq::testing {
namespace {

class EnqueueScriptTest : public ScriptTest {
 protected:
  broker::Reply EnqueueRaw(const std::vector<std::string>& job_args, std::string n = "") {
    std::vector<std::string> args = {base(), n.empty() ? std::to_string(job_args.size() / 5) : n};
    args.insert(args.end(), job_args.begin(), job_args.end());
    return Eval("enqueue", {q().wait(), q().prioritized(), q().delayed(), q().meta()}, args);
  }
};

TEST_F(EnqueueScriptTest, StoresBodyWithCreatedTimeAndAppendsToWaitList) {
  long long before = Now();
  auto reply = EnqueueRaw({"a", R"({"t":"email","d":{"x":1}})", "0", "0", "-1",
                           "b", R"({"t":"email","d":{}})", "0", "0", "-1"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b"}));
  std::string body = Get(q().job("a"));
  ASSERT_TRUE(body.starts_with("{\"c\":")) << body;
  long long created = std::stoll(body.substr(5));
  EXPECT_GE(created, before);
  EXPECT_TRUE(body.ends_with(R"(,"t":"email","d":{"x":1}})")) << body;
  EXPECT_FALSE(Exists(q().job_state("a")));  // waiting jobs carry no state hash (memory)
}

TEST_F(EnqueueScriptTest, ExistingIdIsIdempotent) {
  EnqueueRaw({"a", R"({"t":"email","d":{"v":1}})", "0", "0", "-1"});
  std::string first = Get(q().job("a"));
  auto reply = EnqueueRaw({"a", R"({"t":"email","d":{"v":2}})", "5", "0", "-1"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0}));
  EXPECT_EQ(Get(q().job("a")), first);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(ZMembers(q().prioritized()).empty());
}

TEST_F(EnqueueScriptTest, PriorityGoesToZsetInFifoOrderWithinPriority) {
  auto reply = EnqueueRaw({"p5a", R"({"t":"x","d":{}})", "5", "0", "-1",
                           "n1", R"({"t":"x","d":{}})", "-1", "0", "-1",
                           "p5b", R"({"t":"x","d":{}})", "5", "0", "-1"});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1, 1}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"n1", "p5a", "p5b"}));
  EXPECT_TRUE(List(q().wait()).empty());
}

TEST_F(EnqueueScriptTest, DelayAndRunAtGoToDelayedWithDueScore) {
  long long now = Now();
  auto reply = EnqueueRaw({"d1", R"({"t":"x","d":{}})", "0", "60000", "-1",
                           "d2", R"({"t":"x","d":{}})", "3", "0", std::to_string(now + 90000),
                           "past", R"({"t":"x","d":{}})", "0", "0", std::to_string(now - 5)});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{2, 2, 1}));
  EXPECT_NEAR(ZScore(q().delayed(), "d1"), now + 60000, 1000);
  EXPECT_EQ(ZScore(q().delayed(), "d2"), now + 90000);
  EXPECT_EQ(HGet(q().job_state("d2"), "p"), "3");  // promotion must know its priority
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"past"}));
}

TEST_F(EnqueueScriptTest, PublishesWakeOnlyWhenSomethingWasCreated) {
  auto subscriber = server_->Connect();
  ASSERT_TRUE(subscriber->Send({"SUBSCRIBE", q().wake_channel()}).ok());
  ASSERT_TRUE(subscriber->Receive().ok());  // confirmation
  EnqueueRaw({"a", R"({"t":"x","d":{}})", "0", "0", "-1"});
  auto message = subscriber->Receive();
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->view()[1].str(), q().wake_channel());
  auto numsub = Run({"PUBSUB", "NUMSUB", q().wake_channel()});
  EXPECT_EQ(numsub.view()[1].integer(), 1);
}

TEST_F(EnqueueScriptTest, RejectsBadArgumentsBeforeAnyWrite) {
  const std::vector<std::vector<std::string>> bad = {
      {"", R"({"t":"x","d":{}})", "0", "0", "-1"},          // empty id
      {"a", "not json", "0", "0", "-1"},                    // body not an object
      {"a", R"({"t":"x","d":{}})", "1.5", "0", "-1"},       // fractional priority
      {"a", R"({"t":"x","d":{}})", "2000000", "0", "-1"},   // priority out of range
      {"a", R"({"t":"x","d":{}})", "0", "-1", "-1"},        // negative delay
      {"a", R"({"t":"x","d":{}})", "0", "x", "-1"},         // delay not a number
  };
  for (const auto& job : bad) {
    // a valid job first: it must not be written either (validation precedes every write)
    std::vector<std::string> args = {"ok", R"({"t":"x","d":{}})", "0", "0", "-1"};
    args.insert(args.end(), job.begin(), job.end());
    auto reply = EnqueueRaw(args);
    EXPECT_TRUE(reply.view().is_error()) << job[0] << job[2];
    EXPECT_TRUE(AllKeys().empty());
  }
  EXPECT_TRUE(EnqueueRaw({"a", R"({"t":"x","d":{}})", "0", "0", "-1"}, "2").view().is_error());
  EXPECT_TRUE(AllKeys().empty());
}

}  // namespace
}  // namespace taskq::testing
