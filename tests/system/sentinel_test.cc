// Redis Sentinel against real processes: a master, its replica and a sentinel, each a real
// redis-server. Clients and workers given a redis+sentinel:// URL follow a failover, whether the
// old master stays up (a forced failover) or is killed with SIGKILL.
#include <gtest/gtest.h>

#include "taskq/client.h"
#include "taskq/inspector.h"
#include "testing/redis_server.h"
#include "testing/test_certificates.h"
#include "testing/wait.h"
#include "testing/worker_process.h"

namespace taskq::testing {
namespace {
using std::chrono::milliseconds;
using std::chrono::seconds;

class SentinelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_ = std::make_unique<RedisServer>();
    replica_ = std::make_unique<RedisServer>(RedisServerOptions{
        .extra_args = {"--replicaof", "127.0.0.1", std::to_string(master_->port())}});
    sentinel_ = std::make_unique<RedisServer>(
        RedisServerOptions{.sentinel_config = "sentinel monitor mymaster 127.0.0.1 " +
                                              std::to_string(master_->port()) +
                                              " 1\n"
                                              "sentinel down-after-milliseconds mymaster 1000\n"
                                              "sentinel failover-timeout mymaster 5000\n"});
    // A failover needs a replica in sync that the sentinel knows of.
    ASSERT_TRUE(WaitUntil(
        [&] {
          return Info(*replica_, "replication").find("master_link_status:up") !=
                     std::string::npos &&
                 sentinel_->Run({"SENTINEL", "replicas", "mymaster"}).view().size() > 0;
        },
        seconds(20)));
    url_ = "redis+sentinel://127.0.0.1:" + std::to_string(sentinel_->port()) + "/mymaster";
  }

  static std::string Info(RedisServer& server, const char* section) {
    return std::string(server.Run({"INFO", section}).view().str());
  }
  int MasterPortNamedBySentinel() {
    auto reply = sentinel_->Run({"SENTINEL", "get-master-addr-by-name", "mymaster"});
    return reply.view().size() == 2 ? static_cast<int>(reply.view()[1].AsInt()) : 0;
  }
  static bool HasJob(RedisServer& server, const std::string& queue, const std::string& id) {
    return server.Run({"HEXISTS", "taskq:{" + queue + "}:jobs", id}).view().integer() == 1;
  }
  // Waits until the replica has everything the master wrote so far. (WAIT would only cover this
  // test's own connection, which wrote nothing: the worker's last completions could be lost in
  // the failover, as asynchronous replication allows.)
  void WaitForReplica() {
    auto offset = [](RedisServer& server) {
      const std::string info = Info(server, "replication");
      const auto at = info.find("master_repl_offset:");
      return at == std::string::npos ? -1LL : std::stoll(info.substr(at + 19));
    };
    const long long target = offset(*master_);
    ASSERT_TRUE(WaitUntil([&] { return offset(*replica_) >= target; }));
  }

  std::unique_ptr<RedisServer> master_, replica_, sentinel_;
  std::string url_;
};

TEST_F(SentinelTest, ClientFollowsAFailoverThatLeavesTheOldMasterUp) {
  auto client = std::move(*Client::Open({url_}));
  EnqueueRequest request{"t", "{}", {}};
  request.options.job_id = "before";
  ASSERT_TRUE(client->Enqueue(request).ok());
  EXPECT_TRUE(HasJob(*master_, "t", "before"));
  WaitForReplica();

  // A sentinel lists a replica before it has talked to it, and refuses a failover (NOGOODSLAVE)
  // until it has: ask until it agrees.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return sentinel_->Run({"SENTINEL", "FAILOVER", "mymaster"}).view().str() == "OK";
      },
      seconds(20)));
  ASSERT_TRUE(
      WaitUntil([&] { return MasterPortNamedBySentinel() == replica_->port(); }, seconds(20)));
  // The old master is still up and still takes writes for about 10 s (until Sentinel demotes
  // it): the client must notice the move itself, with its check about once a second.
  request.options.job_id = "after";
  ASSERT_TRUE(
      WaitUntil([&] { return client->Enqueue(request).ok() && HasJob(*replica_, "t", "after"); },
                seconds(5)));
  request.options.job_id = "later";
  ASSERT_TRUE(client->Enqueue(request).ok());
  EXPECT_TRUE(HasJob(*replica_, "t", "later"));
  EXPECT_FALSE(HasJob(*master_, "t", "later"));
  auto counts = std::move(*Inspector::Open({url_}))->Counts("t");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->waiting, 3);
}

// ROLE is an @admin command; a least-privilege user (no @dangerous) still connects through
// Sentinel, which checks the role with HELLO.
TEST_F(SentinelTest, UserWithoutDangerousCommandsConnects) {
  for (RedisServer* server : {master_.get(), replica_.get()}) {
    ASSERT_EQ(server
                  ->Run({"ACL", "SETUSER", "app", "on", ">app-secret", "~*", "&*", "+@all",
                         "-@dangerous"})
                  .view()
                  .str(),
              "OK");
  }
  auto client = Client::Open({"redis+sentinel://app:app-secret@127.0.0.1:" +
                              std::to_string(sentinel_->port()) + "/mymaster"});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto created = (*client)->Enqueue({"t", "{}", {}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(HasJob(*master_, "t", created->id));
}

TEST_F(SentinelTest, WorkerKeepsProcessingAfterTheMasterIsKilled) {
  auto client = std::move(*Client::Open({url_}));
  auto inspector = std::move(*Inspector::Open({url_}));
  WorkerProcess worker(url_, "q=4", 2000, 1000);
  auto enqueue = [&](const std::string& id) {
    EnqueueRequest request{"sleep", "{\"ms\":1}", {}};
    request.options.queue = "q";
    request.options.job_id = id;
    return client->Enqueue(request);
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(enqueue("old" + std::to_string(i)).ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto counts = inspector->Counts("q");
    return counts.ok() && counts->completed == 10;
  }));
  WaitForReplica();
  master_->Kill();  // SIGKILL: the sentinel sees it down after 1 s and promotes the replica

  // Enqueueing fails while there is no master, then succeeds on the promoted replica.
  ASSERT_TRUE(WaitUntil([&] { return enqueue("new0").ok(); }, seconds(30)));
  for (int i = 1; i < 10; ++i) ASSERT_TRUE(enqueue("new" + std::to_string(i)).ok());
  EXPECT_EQ(MasterPortNamedBySentinel(), replica_->port());
  EXPECT_TRUE(HasJob(*replica_, "q", "new9"));
  // The worker, whose connections broke with the old master, finds the new one and runs them.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto counts = inspector->Counts("q");
        return counts.ok() && counts->completed == 20;
      },
      seconds(30)));
}

// A failover that froze the old master (its sockets stay open and silent, as behind a network
// cut) must not leave an idle worker deaf: its wake subscription follows the new master, so a job
// enqueued there starts at once, not at the next idle poll (60 s here).
TEST_F(SentinelTest, IdleWorkerHearsNewJobsAfterAFailoverThatFrozeTheOldMaster) {
  auto client = std::move(*Client::Open({url_}));
  auto inspector = std::move(*Inspector::Open({url_}));
  WorkerProcess worker(url_, "q=2", 2000, 1000, /*idle_poll_ms=*/60000);
  auto enqueue = [&](const std::string& id) {
    EnqueueRequest request{"sleep", "{\"ms\":1}", {}};
    request.options.queue = "q";
    request.options.job_id = id;
    return client->Enqueue(request);
  };
  auto completed = [&](int64_t n) {
    auto counts = inspector->Counts("q");
    return counts.ok() && counts->completed == n;
  };
  ASSERT_TRUE(enqueue("before").ok());
  ASSERT_TRUE(WaitUntil([&] { return completed(1); }));  // up and subscribed
  WaitForReplica();
  master_->Freeze();
  ASSERT_TRUE(
      WaitUntil([&] { return MasterPortNamedBySentinel() == replica_->port(); }, seconds(30)));
  // The worker's round trips that broke in the failover make it claim once more: the first job
  // after it may be found that way. The second can only be heard through the subscription.
  ASSERT_TRUE(WaitUntil([&] { return enqueue("probe").ok(); }, seconds(30)));
  ASSERT_TRUE(WaitUntil([&] { return completed(2); }, seconds(20)));
  ASSERT_TRUE(enqueue("after").ok());
  EXPECT_TRUE(WaitUntil([&] { return completed(3); }, seconds(20)));
  master_->Thaw();
}

// A replica of `master` whose link is up (it has everything written so far), or null.
std::unique_ptr<RedisServer> ReplicaOf(RedisServer& master) {
  auto replica = std::make_unique<RedisServer>(RedisServerOptions{
      .extra_args = {"--replicaof", "127.0.0.1", std::to_string(master.port())}});
  const bool up = WaitUntil([&] {
    return std::string(replica->Run({"INFO", "replication"}).view().str())
               .find("master_link_status:up") != std::string::npos;
  });
  return up ? std::move(replica) : nullptr;
}

// A server that became a replica refuses writes with READONLY: that is a transient error (the
// caller retries; through Sentinel the retry goes to the master), not a failed job.
TEST(ReplicaTest, WritingToAReplicaIsUnavailableNotInternal) {
  RedisServer master;
  RedisServer replica(RedisServerOptions{
      .extra_args = {"--replicaof", "127.0.0.1", std::to_string(master.port())}});
  auto client = std::move(*Client::Open({replica.url()}));
  auto refused = client->Enqueue({"t", "{}", {}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("READONLY"), std::string::npos);
}

// With ?wait_replicas=1 an acknowledged enqueue is on the replica already when Enqueue returns;
// without a replica to take it, the caller hears Unavailable (and the job is on the master).
TEST(ReplicaTest, WaitReplicasAcknowledgesOnlyWhatAReplicaHas) {
  RedisServer master;
  auto replica = ReplicaOf(master);
  ASSERT_TRUE(replica);
  auto client = std::move(*Client::Open({master.url() + "?wait_replicas=1&wait_timeout_ms=2000"}));
  for (int i = 0; i < 20; ++i) {
    EnqueueRequest request{"t", "{}", {}};
    if (i % 2) request.options.priority = 3;  // enqueue.lua as well as enqueue_one.lua
    auto created = client->Enqueue(request);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    // No waiting here: WAIT returned only once the replica had the job.
    EXPECT_EQ(replica->Run({"HEXISTS", "taskq:{t}:jobs", created->id}).view().integer(), 1) << i;
  }
  replica.reset();  // no replica now
  auto unacknowledged = client->Enqueue({"t", "{}", {}});
  ASSERT_FALSE(unacknowledged.ok());
  EXPECT_EQ(unacknowledged.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unacknowledged.status().message().find("replicas"), std::string::npos);
  EXPECT_EQ(master.Run({"LLEN", "taskq:{t}:wait"}).view().integer(), 11);  // written all the same
}

// An import (EnqueueBatches) waits for the replicas once, after its last batch, and the replica
// then holds every job.
TEST(ReplicaTest, AnImportWaitsForTheReplicasOnceAtItsEnd) {
  RedisServer master;
  auto replica = ReplicaOf(master);
  ASSERT_TRUE(replica);
  auto client = std::move(*Client::Open({master.url() + "?wait_replicas=1&wait_timeout_ms=2000"}));
  const std::vector<EnqueueRequest> requests(2500, EnqueueRequest{"t", "{}", {}});
  master.Run({"CONFIG", "RESETSTAT"});
  auto results = client->EnqueueBatches(requests, 1000);  // 3 batches
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), requests.size());
  EXPECT_EQ(replica->Run({"HLEN", "taskq:{t}:jobs"}).view().integer(), 2500);
  const std::string stats(master.Run({"INFO", "commandstats"}).view().str());
  EXPECT_NE(stats.find("cmdstat_wait:calls=1,"), std::string::npos) << stats;
}

// A sentinel of `master` (named mymaster) with extra configuration lines.
std::unique_ptr<RedisServer> SentinelOf(const RedisServer& master, const std::string& extra,
                                        RedisServerOptions options = {}) {
  options.sentinel_config =
      "sentinel monitor mymaster 127.0.0.1 " + std::to_string(master.port()) + " 1\n" + extra;
  return std::make_unique<RedisServer>(std::move(options));
}

// Sentinels with a password of their own (requirepass): the URL's sentinel_password reaches
// them, the master keeps its own.
TEST(SentinelAuthTest, SentinelsWithAPasswordOfTheirOwn) {
  RedisServer master(RedisServerOptions{.password = "master-secret"});
  auto sentinel = SentinelOf(master, "sentinel auth-pass mymaster master-secret\n",
                             RedisServerOptions{.password = "sentinel-secret"});
  const std::string hosts = "127.0.0.1:" + std::to_string(sentinel->port()) + "/mymaster";
  auto client = Client::Open(
      {"redis+sentinel://:master-secret@" + hosts + "?sentinel_password=sentinel-secret"});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Enqueue({"t", "{}", {}}).ok());
  auto refused = Client::Open({"redis+sentinel://:master-secret@" + hosts});
  const Status status =
      refused.ok() ? (*refused)->Enqueue({"t", "{}", {}}).status() : refused.status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("NOAUTH"), std::string::npos) << status.ToString();
}

// rediss+sentinel://: TLS to the sentinel and to the master it names.
TEST(SentinelTlsTest, SentinelAndMasterOverTls) {
  RedisServer master(RedisServerOptions{.tls = true});
  auto sentinel = SentinelOf(master, "tls-replication yes\n", RedisServerOptions{.tls = true});
  const TestCertificates& certificates = Certificates();
  const std::string url = "rediss+sentinel://127.0.0.1:" + std::to_string(sentinel->port()) +
                          "/mymaster?tls_ca=" + certificates.ca +
                          "&tls_cert=" + certificates.client_cert +
                          "&tls_key=" + certificates.client_key;
  auto client = Client::Open({url});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto created = (*client)->Enqueue({"t", "{}", {}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(master.Run({"HEXISTS", "taskq:{t}:jobs", created->id}).view().integer(), 1);
}

}  // namespace
}  // namespace taskq::testing
