// Crash safety against real processes: a worker killed with SIGKILL, a worker stopped with SIGTERM,
// and a Redis restart under load.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

#include "broker/broker.h"
#include "broker/token_text.h"
#include "taskq/client.h"
#include "taskq/inspector.h"
#include "testing/redis_server.h"
#include "testing/wait.h"
#include "testing/worker_process.h"

namespace taskq::testing {
namespace {
using std::chrono::milliseconds;

class CrashTest : public ::testing::Test {
 protected:
  void Open(RedisServerOptions options = {}) {
    server_ = std::make_unique<RedisServer>(options);
    client_ = std::move(*Client::Open({server_->url()}));
    inspector_ = std::move(*Inspector::Open({server_->url()}));
  }
  std::string EnqueueSleep(int ms, EnqueueOptions options = {}) {
    options.queue = "q";
    auto r = client_->Enqueue({"sleep", "{\"ms\":" + std::to_string(ms) + "}", options});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : "";
  }
  Job GetJob(const std::string& id) {
    auto job = client_->Get("q", id);
    return job.ok() && job->has_value() ? **job : Job{};
  }
  // The fencing token of an active job, read the way an operator would (its state record).
  std::string TokenOf(const std::string& id) {
    auto reply = server_->Run({"HGET", "taskq:{q}:state", id});
    std::string record(reply.view().str());
    // st:a:s:ts:tf:p:tk:cx -> tk is the 7th field (base 36: broker/token_text.h)
    size_t pos = 0;
    for (int i = 0; i < 6; ++i) pos = record.find(':', pos) + 1;
    return record.substr(pos, record.find(':', pos) - pos);
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Inspector> inspector_;
};

TEST_F(CrashTest, JobOfAWorkerKilledWithSigkillIsCompletedByAnotherAndTheLateResultRefused) {
  Open();
  WorkerProcess first(server_->url(), "q=1", 500, 1000);
  std::string id = EnqueueSleep(3000);
  ASSERT_TRUE(WaitUntil([&] { return GetJob(id).state == JobState::kActive; }));
  const std::string stale_token = TokenOf(id);
  ASSERT_FALSE(stale_token.empty());
  first.Kill(SIGKILL);  // mid-job: no goodbye, the lease just stops being renewed

  WorkerProcess second(server_->url(), "q=1", 500, 1000);
  ASSERT_TRUE(WaitUntil([&] { return GetJob(id).state == JobState::kCompleted; },
                        std::chrono::seconds(15)));
  Job job = GetJob(id);
  EXPECT_EQ(job.result_json, "{\"pid\":" + std::to_string(second.pid()) + "}");
  EXPECT_EQ(job.stalls, 1);
  EXPECT_EQ(job.attempts, 2);

  // The killed worker's completion, arriving late with its old token, changes nothing.
  auto broker = std::move(*broker::OpenBroker({server_->url(), "taskq"}));
  broker::Completion late{{id, *broker::ParseTokenText(stale_token)}, "{\"late\":true}"};
  auto accepted = broker->Complete("q", std::span(&late, 1), {});
  ASSERT_TRUE(accepted.ok());
  EXPECT_FALSE(accepted->at(0));
  broker::Failure late_failure{
      {id, *broker::ParseTokenText(stale_token)}, "{\"message\":\"late\"}", -1};
  auto failed = broker->Fail("q", std::span(&late_failure, 1), {});
  ASSERT_TRUE(failed.ok());
  EXPECT_FALSE(failed->at(0));
  EXPECT_EQ(GetJob(id).result_json, job.result_json);
  EXPECT_EQ(GetJob(id).state, JobState::kCompleted);
}

TEST_F(CrashTest, SigtermLosesNothing) {
  Open();
  WorkerProcess first(server_->url(), "q=4", 5000, 100);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(EnqueueSleep(400));
  ASSERT_TRUE(WaitUntil([&] { return inspector_->Counts("q")->active == 4; }));
  const auto before = std::chrono::steady_clock::now();
  first.Kill(SIGTERM);
  // Handed back at once (not after the 5 s lease): the jobs are waiting again.
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
  auto counts = inspector_->Counts("q");
  EXPECT_EQ(counts->active, 0);
  EXPECT_EQ(counts->waiting + counts->completed, 20);

  WorkerProcess second(server_->url(), "q=8", 5000, 1000);
  ASSERT_TRUE(WaitUntil([&] { return inspector_->Counts("q")->completed == 20; },
                        std::chrono::seconds(20)));
  for (const std::string& id : ids) {
    Job job = GetJob(id);
    EXPECT_EQ(job.state, JobState::kCompleted) << id;
    EXPECT_EQ(job.stalls, 0) << id;
  }
}

TEST_F(CrashTest, RedisRestartUnderLoadLosesNothingAcknowledged) {
  RedisServerOptions options;
  options.append_only = true;  // appendfsync always: an acknowledged write is on disk
  Open(options);
  WorkerProcess worker(server_->url(), "q=8", 2000, 1000);
  // The restart is to hit a running worker, not one still starting (a slow sanitizer build under
  // load may take a while): wait for its first heartbeat.
  ASSERT_TRUE(WaitUntil([&] {
    auto workers = inspector_->Workers();
    return workers.ok() && !workers->workers.empty();
  }));
  EnqueueOptions keep;
  keep.keep_completed = {-1, std::chrono::hours(1)};
  keep.backoff = {BackoffType::kFixed, milliseconds(50), milliseconds(50), 0};
  std::set<std::string> acknowledged;
  for (int batch = 0; batch < 40; ++batch) {
    if (batch == 15) server_->Restart();  // SIGKILL and start again on the same data
    std::vector<EnqueueRequest> requests;
    for (int i = 0; i < 25; ++i) {
      EnqueueOptions o = keep;
      o.job_id = "b" + std::to_string(batch) + "-" + std::to_string(i);
      requests.push_back({"sleep", "{\"ms\":2}", o});
      requests.back().options.queue = "q";
    }
    // A producer retries until Redis acknowledges; ids make the retry idempotent.
    bool done =
        WaitUntil([&] { return client_->EnqueueBulk(requests).ok(); }, std::chrono::seconds(10));
    ASSERT_TRUE(done) << "batch " << batch;
    for (const auto& r : requests) acknowledged.insert(r.options.job_id);
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto c = inspector_->Counts("q");
        return c.ok() && c->completed == static_cast<int64_t>(acknowledged.size());
      },
      std::chrono::seconds(30)));
  for (const std::string& id : acknowledged) {
    EXPECT_EQ(GetJob(id).state, JobState::kCompleted) << id;
  }
}

}  // namespace
}  // namespace taskq::testing
