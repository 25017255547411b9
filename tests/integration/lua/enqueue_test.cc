#include "script_fixture.h"

namespace taskq::testing {
namespace {

class EnqueueScriptTest : public ScriptTest {
 protected:
  // One element per job: {id, body, priority, delay_ms, run_at_ms}, passed as the script's
  // {id, body, options}. n defaults to the job count.
  broker::Reply EnqueueJobs(const std::vector<std::vector<std::string>>& jobs, std::string n = "") {
    std::vector<std::string> args = {base(), n.empty() ? std::to_string(jobs.size()) : n};
    for (const auto& job : jobs) {
      args.insert(args.end(), {job[0], job[1], EnqueueOptionsArg(job[2], job[3], job[4])});
    }
    return Eval("enqueue", EnqueueKeys(), args);
  }
  static constexpr const char* kJobBody = R"({"t":"x","d":{}})";
};

// A batch of new, distinct ids (one HMGET finds none known, one HSET stores them all).
TEST_F(EnqueueScriptTest, StoresBodyWithCreatedTimeAndAppendsToWaitList) {
  long long before = Now();
  auto reply = EnqueueJobs({
      {"a", R"({"t":"email","d":{"x":1}})", "0", "0", "-1"},
      {"b", R"({"t":"sms","d":{}})", "0", "0", "-1"},
  });
  long long after = Now();
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b"}));
  std::string body = BodyOf("a");
  ASSERT_TRUE(body.starts_with("{\"c\":")) << body;
  long long created = std::stoll(body.substr(5));
  EXPECT_GE(created, before);
  EXPECT_LE(created, after);
  EXPECT_TRUE(body.ends_with(R"(,"t":"email","d":{"x":1}})")) << body;
  EXPECT_EQ(BodyOf("b"), R"({"c":)" + std::to_string(created) + R"(,"t":"sms","d":{}})");
  // waiting jobs carry no state record (memory)
  EXPECT_FALSE(HasState("a"));
  EXPECT_FALSE(HasState("b"));
  EXPECT_FALSE(Exists(q().state()));
}

TEST_F(EnqueueScriptTest, SingleJobIsStored) {
  long long before = Now();
  EXPECT_EQ(Ints(EnqueueJobs({{"a", R"({"t":"email","d":{}})", "0", "0", "-1"}})),
            (std::vector<long long>{1}));
  std::string body = BodyOf("a");
  ASSERT_TRUE(body.starts_with("{\"c\":")) << body;
  EXPECT_GE(std::stoll(body.substr(5)), before);
  EXPECT_TRUE(body.ends_with(R"(,"t":"email","d":{}})")) << body;
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(HasState("a"));
}

TEST_F(EnqueueScriptTest, ExistingIdIsIdempotent) {
  EnqueueJobs({{"a", R"({"t":"email","d":{"v":1}})", "0", "0", "-1"}});
  std::string first = BodyOf("a");
  auto wakes = ListenForWakes();
  auto before = Snapshot();
  auto reply = EnqueueJobs({{"a", R"({"t":"email","d":{"v":2}})", "5", "0", "-1"}});
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0}));
  EXPECT_EQ(BodyOf("a"), first);
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(ZMembers(q().prioritized()).empty());
  EXPECT_FALSE(HasState("a"));
  // the same alone, and in a batch (the HMGET finds one known, then one HSETNX each)
  EXPECT_EQ(Ints(EnqueueJobs({{"a", kJobBody, "0", "0", "-1"}})), (std::vector<long long>{0}));
  EXPECT_EQ(Ints(EnqueueJobs({
                {"a", kJobBody, "0", "0", "-1"},
                {"a", kJobBody, "-2", "60000", "-1"},
            })),
            (std::vector<long long>{0, 0}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CountWakes(*wakes), 0);  // nothing was created
}

TEST_F(EnqueueScriptTest, ExistingActiveIdIsNotQueuedAgain) {
  Enqueue("a");
  auto claim = Claim(1);
  auto a_state = StateRecord("a");
  ASSERT_TRUE(a_state);
  auto reply = EnqueueJobs({
      {"a", kJobBody, "0", "0", "-1"},
      {"b", kJobBody, "0", "0", "-1"},
  });
  EXPECT_EQ(Ints(reply), (std::vector<long long>{0, 1}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ZMembers(q().active()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(StateRecord("a"), a_state);
  EXPECT_FALSE(HasState("b"));
}

// An id repeated within one batch: one HSET would keep its last body, so it is created once and the
// repeat reports "existed"; the first occurrence wins (body, priority, delay).
TEST_F(EnqueueScriptTest, IdRepeatedInOneBatchIsCreatedAndQueuedOnce) {
  auto reply = EnqueueJobs({
      {"a", R"({"t":"x","d":{"v":1}})", "0", "0", "-1"},
      {"b", kJobBody, "0", "0", "-1"},
      {"a", R"({"t":"x","d":{"v":2}})", "0", "0", "-1"},
  });
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1, 0}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(BodyOf("a").ends_with(R"("d":{"v":1}})")) << BodyOf("a");
  EXPECT_FALSE(Exists(q().prioritized()));
  EXPECT_FALSE(Exists(q().state()));
}

TEST_F(EnqueueScriptTest, IdRepeatedInOneBatchWithOtherPlacementsIsQueuedOnce) {
  auto reply = EnqueueJobs({
      {"p", kJobBody, "3", "0", "-1"},
      {"p", kJobBody, "0", "0", "-1"},
      {"d", kJobBody, "2", "60000", "-1"},
      {"d", kJobBody, "0", "0", "-1"},
      {"p", kJobBody, "0", "60000", "-1"},
  });
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 0, 2, 0, 0}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"p"}));
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"d"}));
  EXPECT_FALSE(Exists(q().wait()));
  // st, a, s, ts, tf, p, tk, cx
  EXPECT_EQ(StateOf("d"), (broker::StateRecord{"delayed", 0, 0, 0, 0, 2, "", false}));
  EXPECT_EQ(StateOf("p").state, "waiting");  // a priority other than 0 is kept in the record
  // p is queued once: one claim takes it, a second finds nothing (d is not due)
  EXPECT_EQ(ClaimedIds(Claim(10)), (std::vector<std::string>{"p"}));
  EXPECT_EQ(CountOf(Claim(10)), 0);
}

// A batch mixing new and existing ids: the all-new check refuses the whole batch, then every new id
// is still created and every existing one left alone.
TEST_F(EnqueueScriptTest, BatchMixingNewAndExistingIds) {
  EnqueueJobs({{"a", R"({"t":"x","d":{"v":1}})", "0", "0", "-1"}});
  Enqueue("dp", 4, 60000);
  std::string a_body = BodyOf("a");
  auto dp_state = StateRecord("dp");
  auto wakes = ListenForWakes();
  auto reply = EnqueueJobs({
      {"n1", kJobBody, "0", "0", "-1"},
      {"a", R"({"t":"x","d":{"v":2}})", "0", "0", "-1"},
      {"n2", kJobBody, "-1", "0", "-1"},
      {"dp", kJobBody, "0", "0", "-1"},
      {"n3", kJobBody, "5", "60000", "-1"},
  });
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 0, 1, 0, 2}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "n1"}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"n2"}));
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"dp", "n3"}));
  EXPECT_EQ(BodyOf("a"), a_body);
  EXPECT_EQ(StateRecord("dp"), dp_state);
  for (const char* id : {"n1", "n2", "n3"}) EXPECT_TRUE(HasBody(id)) << id;
  EXPECT_EQ(StateOf("n3").state, "delayed");
  EXPECT_EQ(StateOf("n3").priority, 5);
  EXPECT_FALSE(HasState("n1"));
  EXPECT_EQ(StateOf("n2").state, "waiting");  // a priority other than 0 is kept in the record
  EXPECT_EQ(CountWakes(*wakes), 1);
}

TEST_F(EnqueueScriptTest, PriorityGoesToZsetInFifoOrderWithinPriority) {
  auto reply = EnqueueJobs({
      {"p5a", kJobBody, "5", "0", "-1"},
      {"n1", kJobBody, "-1", "0", "-1"},
      {"p5b", kJobBody, "5", "0", "-1"},
  });
  EXPECT_EQ(Ints(reply), (std::vector<long long>{1, 1, 1}));
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"n1", "p5a", "p5b"}));
  EXPECT_TRUE(List(q().wait()).empty());
  // the score orders them; the record keeps the priority (aging may be switched on meanwhile)
  EXPECT_EQ(StateOf("p5a").priority, 5);
  EXPECT_EQ(StateOf("n1").priority, -1);
  // a later batch queues after the earlier jobs of the same priority
  EnqueueJobs({{"p5c", kJobBody, "5", "0", "-1"}});
  EXPECT_EQ(ZMembers(q().prioritized()), (std::vector<std::string>{"n1", "p5a", "p5b", "p5c"}));
  EXPECT_EQ(ClaimedIds(Claim(4)), (std::vector<std::string>{"n1", "p5a", "p5b", "p5c"}));
}

TEST_F(EnqueueScriptTest, DelayAndRunAtGoToDelayedWithDueScore) {
  long long now = Now();
  auto reply = EnqueueJobs({
      {"d1", kJobBody, "0", "60000", "-1"},
      {"d2", kJobBody, "3", "0", std::to_string(now + 90000)},
      {"past", kJobBody, "0", "0", std::to_string(now - 5)},
  });
  EXPECT_EQ(Ints(reply), (std::vector<long long>{2, 2, 1}));
  EXPECT_NEAR(ZScore(q().delayed(), "d1"), now + 60000, 1000);
  EXPECT_EQ(ZScore(q().delayed(), "d2"), now + 90000);
  // promotion must know its priority
  EXPECT_EQ(StateOf("d2").state, "delayed");
  EXPECT_EQ(StateOf("d2").priority, 3);
  EXPECT_EQ(StateOf("d2").attempts, 0);
  EXPECT_EQ(StateOf("d2").token, "");
  EXPECT_FALSE(HasState("d1"));  // priority 0: nothing to remember
  EXPECT_FALSE(HasState("past"));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"past"}));
}

TEST_F(EnqueueScriptTest, PublishesWakeOnlyWhenSomethingWasCreated) {
  auto subscriber = server_->Connect();
  ASSERT_TRUE(subscriber->Send({"SSUBSCRIBE", q().wake_channel()}).ok());
  ASSERT_TRUE(subscriber->Receive().ok());  // confirmation
  EnqueueJobs({{"a", kJobBody, "0", "0", "-1"}});
  auto message = subscriber->Receive();
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->view()[1].str(), q().wake_channel());
  auto numsub = Run({"PUBSUB", "SHARDNUMSUB", q().wake_channel()});
  EXPECT_EQ(numsub.view()[1].integer(), 1);
  EXPECT_EQ(CountWakes(*subscriber), 0);
  EnqueueJobs({{"a", kJobBody, "0", "0", "-1"}});  // existed
  EXPECT_EQ(CountWakes(*subscriber), 0);
  EnqueueJobs({
      {"b", kJobBody, "0", "0", "-1"},
      {"c", kJobBody, "0", "0", "-1"},
  });
  EXPECT_EQ(CountWakes(*subscriber), 1);  // one wake per batch
}

TEST_F(EnqueueScriptTest, RejectsBadArgumentsBeforeAnyWrite) {
  const std::vector<std::vector<std::string>> bad = {
      {"", kJobBody, "0", "0", "-1"},         // empty id
      {"a", "not json", "0", "0", "-1"},      // body not an object
      {"a", "{}", "0", "0", "-1"},            // body too short to prepend "c"
      {"a", kJobBody, "1.5", "0", "-1"},      // fractional priority
      {"a", kJobBody, "2000000", "0", "-1"},  // priority out of range
      {"a", kJobBody, "x", "0", "-1"},        // priority not a number
      {"a", kJobBody, "0", "-1", "-1"},       // negative delay
      {"a", kJobBody, "0", "x", "-1"},        // delay not a number
      {"a", kJobBody, "0", "0", "x"},         // run_at not a number
  };
  for (const auto& job : bad) {
    const std::string what = job[0] + " " + job[1] + " " + job[2] + " " + job[3] + " " + job[4];
    // alone
    EXPECT_TRUE(EnqueueJobs({job}).view().is_error()) << what;
    EXPECT_TRUE(AllKeys().empty()) << what;
    // after valid jobs, a new one and a delayed priority one: they must not be written either
    // (validation precedes every write)
    auto reply = EnqueueJobs({
        {"ok", kJobBody, "0", "0", "-1"},
        {"dp", kJobBody, "2", "60000", "-1"},
        job,
    });
    EXPECT_TRUE(reply.view().is_error()) << what;
    EXPECT_TRUE(AllKeys().empty()) << what;
  }
  // n disagreeing with the arguments
  for (const char* n : {"2", "0", "x"}) {
    EXPECT_TRUE(EnqueueJobs({{"a", kJobBody, "0", "0", "-1"}}, n).view().is_error()) << n;
  }
  EXPECT_TRUE(AllKeys().empty());
}

// A batch far beyond Lua's unpack limit (about 8000 values) is still one script call, so one
// atomic step: every placement lands in full (each list here is over 8000 values), a unique key
// repeated across the batch answers with its first job, and one bad job writes nothing at all.
TEST_F(EnqueueScriptTest, BatchBeyondTheUnpackLimitIsOneStep) {
  constexpr int kJobs = 25000;
  auto batch = [&](int bad_at) {
    std::vector<std::string> args = {base(), std::to_string(kJobs)};
    for (int i = 0; i < kJobs; ++i) {
      std::string options;
      if (i % 5 == 1) options = "1:60000:-1";                     // delayed, with a state record
      if (i % 5 == 2) options = "2:0:-1";                         // priority
      if (i % 5 == 3) options = "0:0:-1:g";                       // grouped
      if (i == 4 || i == 24504) options = "0:0:-1|debounce:0:k";  // one key, twice
      if (i == bad_at) options = "x:0:-1";
      args.insert(args.end(), {"j" + std::to_string(i), kJobBody, options});
    }
    return Eval("enqueue", EnqueueKeys(), args);
  };
  EXPECT_TRUE(batch(24999).view().is_error());  // the last job is bad: nothing is written
  EXPECT_TRUE(AllKeys().empty());

  auto reply = batch(-1);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  ASSERT_EQ(reply.view().size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(reply.view()[1].AsInt(), 2);       // delayed
  EXPECT_EQ(reply.view()[24999].AsInt(), 1);   // waiting
  EXPECT_EQ(reply.view()[24504].str(), "j4");  // the key's holder, from the batch
  EXPECT_EQ(Run({"LLEN", q().wait()}).view().integer(), kJobs / 5 * 2 - 1);  // i % 5 in {0, 4}
  EXPECT_EQ(Run({"ZCARD", q().delayed()}).view().integer(), kJobs / 5);
  EXPECT_EQ(Run({"ZCARD", q().prioritized()}).view().integer(), kJobs / 5);
  EXPECT_EQ(Run({"ZCARD", q().group_waiting("g")}).view().integer(), kJobs / 5);
  EXPECT_EQ(Run({"HLEN", base() + "g"}).view().integer(), kJobs / 5);
  // the delayed ones and the prioritized ones
  EXPECT_EQ(Run({"HLEN", q().state()}).view().integer(), kJobs / 5 * 2);
  EXPECT_EQ(HGet(q().meta(), "gwaiting"), std::to_string(kJobs / 5));
  EXPECT_EQ(List(q().wait()).back(), "j24999");  // FIFO kept across the parts
  EXPECT_FALSE(HasBody("j24504"));
  EXPECT_EQ(Get(base() + "u:k"), "j4");
}

// The all-new check looks at every part: one existing id in a late part sends the batch down
// the per-job path, where only that id "existed".
TEST_F(EnqueueScriptTest, ExistingIdInALatePartOfABigBatchExisted) {
  Enqueue("j8000");
  std::string first = BodyOf("j8000");
  std::vector<std::string> args = {base(), "9000"};
  for (int i = 0; i < 9000; ++i) args.insert(args.end(), {"j" + std::to_string(i), kJobBody, ""});
  auto reply = Eval("enqueue", EnqueueKeys(), args);
  ASSERT_EQ(reply.view().size(), 9000u);
  EXPECT_EQ(reply.view()[8000].AsInt(), 0);
  EXPECT_EQ(reply.view()[7999].AsInt(), 1);
  EXPECT_EQ(reply.view()[8001].AsInt(), 1);
  EXPECT_EQ(BodyOf("j8000"), first);
  EXPECT_EQ(Run({"LLEN", q().wait()}).view().integer(), 9000);  // j8000 once, from before
}

}  // namespace
}  // namespace taskq::testing

namespace taskq::testing {
namespace {

TEST_F(ScriptTest, EnqueueRejectsMalformedOptionsBeforeAnyWrite) {
  const std::string long_group = "5:0:-1:" + std::string(129, 'g');  // groups: 1 to 128 bytes
  for (const std::string& options :
       std::vector<std::string>{"5", "5:0", "a:b:c", ":0:-1", "5:x:-1:tenant", long_group}) {
    auto reply = Eval("enqueue", EnqueueKeys(),
                      {base(), "2", "ok", R"({"d":{}})", "", "bad", R"({"d":{}})", options});
    EXPECT_TRUE(reply.view().is_error()) << options;
    EXPECT_TRUE(AllKeys().empty()) << options;
  }
}

// Regression: due times were Redis' milliseconds rounded down plus the delay, so a delayed job
// could be promoted up to 1 ms before the delay had passed. "No earlier than" is the promise.
TEST_F(EnqueueScriptTest, DelayedJobIsNeverDueBeforeItsFullDelay) {
  for (int i = 0; i < 50; ++i) {
    auto t = Run({"TIME"});
    const long long before_us = std::stoll(std::string(t.view()[0].str())) * 1000000 +
                                std::stoll(std::string(t.view()[1].str()));
    const std::string id = "d" + std::to_string(i);
    Enqueue(id, 0, 3);
    const double due_ms = ZScore(q().delayed(), id);
    EXPECT_GE(static_cast<long long>(due_ms) * 1000, before_us + 3000) << id;
  }
}

}  // namespace
}  // namespace taskq::testing

namespace taskq::testing {
namespace {

// The layout version comes after the 3n job arguments (shard_layout.lua): any other than
// meta.sv, or none on a queue that has one, refuses the whole batch with the queue's version,
// writing nothing; both the all-plain path and the general one.
TEST_F(EnqueueScriptTest, RefusesALayoutVersionOtherThanTheQueues) {
  Run({"HSET", q().meta(), "sv", "4"});
  const std::vector<std::string> plain = {base(), "2", "a", kJobBody, "", "b", kJobBody, ""};
  const std::vector<std::string> mixed = {
      base(), "2", "c", kJobBody, "", "d", kJobBody, EnqueueOptionsArg("3", "60000", "-1")};
  auto wakes = ListenForWakes();
  const auto before = Snapshot();
  for (const auto& batch : {plain, mixed}) {
    for (const char* version : {"", "3", "5"}) {
      std::vector<std::string> args = batch;
      if (*version != '\0') args.push_back(version);
      const std::string what = batch[2] + " version " + version;
      auto reply = Eval("enqueue", EnqueueKeys(), args);
      ASSERT_TRUE(reply.view().is_error()) << what;
      EXPECT_TRUE(reply.view().str().starts_with("LAYOUT 4")) << what << ": " << reply.view().str();
      EXPECT_EQ(Snapshot(), before) << what;
    }
  }
  EXPECT_EQ(CountWakes(*wakes), 0);
  // one argument more than the version is still a bad count
  std::vector<std::string> too_many = plain;
  too_many.insert(too_many.end(), {"4", "x"});
  EXPECT_TRUE(Eval("enqueue", EnqueueKeys(), too_many).view().is_error());
  EXPECT_EQ(Snapshot(), before);

  std::vector<std::string> args = plain;
  args.push_back("4");
  EXPECT_EQ(Ints(Eval("enqueue", EnqueueKeys(), args)), (std::vector<long long>{1, 1}));
  args = mixed;
  args.push_back("4");
  EXPECT_EQ(Ints(Eval("enqueue", EnqueueKeys(), args)), (std::vector<long long>{1, 2}));
  EXPECT_EQ(List(q().wait()), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ZMembers(q().delayed()), (std::vector<std::string>{"d"}));
  EXPECT_EQ(HGet(q().meta(), "enqueued"), "4");
  EXPECT_EQ(CountWakes(*wakes), 2);
}

// A queue never sharded has no sv: a producer naming a version has read a layout that is gone.
TEST_F(EnqueueScriptTest, RefusesAVersionOnAQueueWithoutOne) {
  auto reply = Eval("enqueue", EnqueueKeys(), {base(), "1", "a", kJobBody, "", "1"});
  ASSERT_TRUE(reply.view().is_error());
  EXPECT_TRUE(reply.view().str().starts_with("LAYOUT 0")) << reply.view().str();
  EXPECT_TRUE(AllKeys().empty());
}

}  // namespace
}  // namespace taskq::testing
