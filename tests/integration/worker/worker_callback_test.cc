// Completion callbacks end to end through a real worker: a job with a callback URL, once it
// completes or goes dead, becomes one `webhook` job in the callback queue (relayed from the
// queue's outbox: worker/callback_relay.h), whose data is the request the receiver gets.
#include <boost/json/parse.hpp>
#include <thread>

#include "broker/broker.h"
#include "worker/callback_relay.h"
#include "worker_fixture.h"

namespace taskq::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

class WorkerCallbackTest : public WorkerTest {
 protected:
  // The jobs waiting in the callback queue "cbq" (no worker serves it here).
  std::vector<Job> Callbacks() {
    auto jobs = inspector_->List("cbq", JobState::kWaiting, 0, 1000);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    return jobs.ok() ? *jobs : std::vector<Job>{};
  }
  bool WaitForCallbacks(size_t n) {
    return WaitUntil([&] { return Callbacks().size() >= n; }, std::chrono::seconds(10));
  }
  WorkerOptions CallbackOptions() {
    WorkerOptions o = Options();
    o.callback_queue = "cbq";
    return o;
  }
};

TEST_F(WorkerCallbackTest, ACompletedAndADeadJobEachGiveOneWebhookJob) {
  Worker worker(CallbackOptions());
  worker.Register("t", [](JobContext& job) {
    if (job.data_json().find("fail") != std::string::npos) return HandlerResult::Fail("no way");
    return HandlerResult::Success(R"({"sent":true})");
  });
  ASSERT_TRUE(worker.Start().ok());
  EnqueueOptions o;
  o.callback_url = "https://receiver.example/hooks?x=1";
  o.trace_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const std::string ok = Enqueue(R"({"n":1})", o);
  const std::string bad = Enqueue(R"({"fail":1})", o);
  Enqueue(R"({"n":2})");  // no callback
  ASSERT_TRUE(WaitForState(ok, JobState::kCompleted));
  ASSERT_TRUE(WaitForState(bad, JobState::kDead));
  ASSERT_TRUE(WaitForCallbacks(2));
  worker.Stop();
  const std::vector<Job> callbacks = Callbacks();
  ASSERT_EQ(callbacks.size(), 2u);
  std::map<std::string, json::object> by_job;
  for (const Job& cb : callbacks) {
    EXPECT_EQ(cb.type, "webhook");
    EXPECT_EQ(cb.id.rfind("cb:q:", 0), 0u) << cb.id;
    EXPECT_EQ(cb.options.max_attempts, 10);
    EXPECT_EQ(cb.options.trace_parent, o.trace_parent);
    json::object data = json::parse(cb.data_json).as_object();
    EXPECT_EQ(data.at("url").as_string(), "https://receiver.example/hooks?x=1");
    const json::object& job = data.at("body").at("job").as_object();
    by_job[std::string(job.at("id").as_string())] = data.at("body").as_object();
  }
  ASSERT_EQ(by_job.count(ok), 1u);
  ASSERT_EQ(by_job.count(bad), 1u);
  const json::object& done = by_job[ok];
  EXPECT_EQ(done.at("type").as_string(), "job.completed");
  EXPECT_EQ(done.at("job").at("queue").as_string(), "q");
  EXPECT_EQ(done.at("job").at("type").as_string(), "t");
  EXPECT_EQ(done.at("job").at("state").as_string(), "completed");
  EXPECT_EQ(done.at("job").at("result").at("sent").as_bool(), true);
  EXPECT_EQ(done.at("job").at("finished_ms").as_int64(), GetJob(ok).finished_ms);
  const json::object& dead = by_job[bad];
  EXPECT_EQ(dead.at("type").as_string(), "job.dead");
  EXPECT_EQ(dead.at("job").at("error").at("message").as_string(), "no way");
  EXPECT_FALSE(dead.at("job").as_object().contains("result"));
  // The outbox is empty once relayed, and the completed job's hook is gone.
  auto connection = server_->Connect();
  EXPECT_EQ(connection->Run(broker::Command{"XLEN", "taskq:{q}:outbox"})->view().integer(), 0);
  EXPECT_EQ(connection->Run(broker::Command{"HEXISTS", "taskq:{q}:hooks", ok})->view().integer(),
            0);
}

TEST_F(WorkerCallbackTest, AnEntryAppliedTwiceCreatesOneJob) {
  auto broker = broker::OpenBroker({server_->url()});
  ASSERT_TRUE(broker.ok());
  auto connection = server_->Connect();
  ASSERT_TRUE(connection
                  ->Run(broker::Command{"XADD", "taskq:{q}:outbox", "*", "k", "cb", "id", "j", "o",
                                        "completed", "t", "5", "b",
                                        R"({"d":{},"o":{"cb":"http://r.example/"}})", "r", "1"})
                  .ok());
  worker::CallbackRelayOptions relay;
  relay.callback_queue = "cbq";
  relay.token = "test";
  // A relay applies the entry and dies before its acknowledgement.
  auto taken = (*broker)->TakeOutbox("q", "dead-relay", milliseconds(1), 100);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 1u);
  auto job = worker::CallbackJobFor("q", "cbq", taken->front());
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_TRUE((*broker)->Enqueue("cbq", std::span<const broker::NewJob>(&*job, 1)).ok());
  ASSERT_EQ(Callbacks().size(), 1u);
  std::this_thread::sleep_for(milliseconds(5));  // its lease expires
  auto applied = worker::RelayOutbox(**broker, "q", relay);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, 1);
  const std::vector<Job> callbacks = Callbacks();
  ASSERT_EQ(callbacks.size(), 1u);  // the same id: nothing new
  EXPECT_EQ(callbacks[0].id, job->id);
  EXPECT_EQ(connection->Run(broker::Command{"XLEN", "taskq:{q}:outbox"})->view().integer(), 0);
}

TEST_F(WorkerCallbackTest, MalformedEntriesAreDroppedAndUnknownKindsKept) {
  auto broker = broker::OpenBroker({server_->url()});
  ASSERT_TRUE(broker.ok());
  auto connection = server_->Connect();
  for (const broker::Command& add :
       {broker::Command{"XADD", "taskq:{q}:outbox", "*", "k", "cb", "id", "x"},
        broker::Command{"XADD", "taskq:{q}:outbox", "*", "k", "cb", "id", "y", "o", "completed",
                        "t", "5", "b", R"({"d":{}})", "r", "null"},
        broker::Command{"XADD", "taskq:{q}:outbox", "*", "k", "future", "v", "1"}}) {
    ASSERT_TRUE(connection->Run(add).ok());
  }
  worker::CallbackRelayOptions relay;
  relay.callback_queue = "cbq";
  relay.token = "test";
  auto applied = worker::RelayOutbox(**broker, "q", relay);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, 0);  // neither callback entry could be applied (no URL in y's body)
  EXPECT_TRUE(Callbacks().empty());
  auto left = connection->Run(broker::Command{"XRANGE", "taskq:{q}:outbox", "-", "+"});
  ASSERT_EQ(left->view().size(), 1u);
  EXPECT_EQ(left->view()[0][1][1].str(), "future");
}

TEST(CallbackJobForTest, ALargeResultIsLeftOutAndMarked) {
  broker::OutboxEntry entry;
  entry.id = "1700000000000-3";
  entry.fields = {{"k", "cb"},
                  {"id", "j1"},
                  {"o", "completed"},
                  {"t", "1700000000000"},
                  {"b", R"({"t":"email","d":{},"o":{"cb":"https://r.example/"}})"},
                  {"r", "\"" + std::string(70000, 'x') + "\""}};
  auto job = worker::CallbackJobFor("mail", "webhook", entry);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->id, "cb:mail:1700000000000-3");
  EXPECT_FALSE(job->hooked);  // a callback has no callback of its own
  EXPECT_NE(job->body.find(R"("result_truncated":true)"), std::string::npos);
  EXPECT_EQ(job->body.find("xxxx"), std::string::npos);
  EXPECT_NE(job->body.find(R"("type":"email")"), std::string::npos);
  // A result that is not JSON (written by hand) travels as a string.
  entry.fields.back().second = "not json";
  auto text = worker::CallbackJobFor("mail", "webhook", entry);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->body.find(R"("result":"not json")"), std::string::npos);
}

}  // namespace
}  // namespace taskq::testing
