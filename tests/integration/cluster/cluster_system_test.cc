// The client library, a worker process and the inspector on the real local cluster (the CTest
// fixture of tests/testing/redis_cluster.py), through a redis+cluster:// URL: queues placed on
// every master run their jobs, bulk imports across them, the live events of all of them, wake-ups
// by sharded pub/sub on each master, scripts reloaded on masters that forgot them, and every
// script kept inside its queue's slot.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/alerts.h"
#include "broker/cluster_connection.h"
#include "broker/keys.h"
#include "broker/scripts.h"
#include "common/text_list.h"
#include "integration/cluster/fixture_nodes.h"
#include "integration/cluster/slot_moves.h"
#include "taskq/client.h"
#include "taskq/inspector.h"
#include "testing/wait.h"
#include "testing/worker_process.h"

namespace taskq::testing {
namespace {
using std::chrono::seconds;

class ClusterSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<std::string> nodes = FixtureClusterNodes();
    ASSERT_EQ(nodes.size(), 6u) << "run under ctest (label cluster), which starts the cluster";
    url_ = "redis+cluster://" + nodes[0] + "," + nodes[1];
    for (const std::string& node : nodes) {
      const auto colon = node.rfind(':');
      seeds_.push_back({node.substr(0, colon), std::stoi(node.substr(colon + 1))});
    }
    auto cluster = broker::ClusterConnection::Open(broker::RedisEndpoint{}, seeds_);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    ASSERT_EQ(cluster_->map().masters().size(), 3u);
    // One queue on each master: names tried in turn until every master has one.
    const std::string stem = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::map<std::string, std::string> queue_of_master;
    for (int i = 0; queue_of_master.size() < 3 && i < 1000; ++i) {
      const std::string name =
          stem.substr(0, 20) + "-" + std::to_string(getpid()) + "-" + std::to_string(i);
      const broker::QueueKeys keys("taskq", name);
      queue_of_master.emplace(cluster_->map().MasterOf(keys.slot())->address(), name);
    }
    for (const auto& [master, queue] : queue_of_master) queues_.push_back(queue);
    ASSERT_EQ(queues_.size(), 3u);
  }

  // host:port of each master, as the fixture's own connection read the map.
  std::set<std::string> MasterAddresses() const {
    std::set<std::string> out;
    for (const broker::ClusterNode& m : cluster_->map().masters()) out.insert(m.address());
    return out;
  }

  std::string url_;
  std::vector<broker::ClusterSeed> seeds_;
  std::unique_ptr<broker::ClusterConnection> cluster_;
  std::vector<std::string> queues_;  // each on another master
};

EnqueueRequest Echo(const std::string& queue, int i) {
  EnqueueRequest request{"echo", R"({"i":)" + std::to_string(i) + "}", {}};
  request.options.queue = queue;
  return request;
}

TEST_F(ClusterSystemTest, QueuesOnEveryMasterRunTheirJobsAndTellTheirEvents) {
  auto client = Client::Open({url_});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto inspector = Inspector::Open({url_});
  ASSERT_TRUE(inspector.ok()) << inspector.status().ToString();
  auto events_reader = std::move(*Inspector::Open({url_}));
  std::vector<EventCursor> cursors;
  for (const std::string& q : queues_) cursors.push_back({q, ""});
  ASSERT_TRUE(events_reader->WaitEvents(cursors, std::chrono::milliseconds(0)).ok());

  // Single jobs, a bulk per queue, and one import that spans the three masters.
  std::vector<EnqueueRequest> import;
  for (const std::string& q : queues_) {
    ASSERT_TRUE((*client)->Enqueue(Echo(q, 0)).ok());
    std::vector<EnqueueRequest> bulk;
    for (int i = 1; i <= 20; ++i) bulk.push_back(Echo(q, i));
    auto created = (*client)->EnqueueBulk(bulk);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    for (int i = 21; i <= 40; ++i) import.push_back(Echo(q, i));
  }
  auto imported = (*client)->EnqueueBatches(import, 7);  // batches that mix the queues
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  ASSERT_EQ(imported->size(), import.size());
  for (const std::string& q : queues_) {
    auto counts = (*inspector)->Counts(q);
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
    EXPECT_EQ(counts->waiting, 41) << q;
  }
  auto listed = (*inspector)->Queues();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  for (const std::string& q : queues_) {
    EXPECT_NE(std::find(listed->begin(), listed->end(), q), listed->end()) << q;
  }

  WorkerProcess worker(url_, queues_[0] + "=4," + queues_[1] + "=4," + queues_[2] + "=4", 5000,
                       1000);
  auto all_completed = [&](int64_t n) {
    for (const std::string& q : queues_) {
      auto counts = (*inspector)->Counts(q);
      if (!counts.ok() || counts->completed != n) return false;
    }
    return true;
  };
  ASSERT_TRUE(WaitUntil([&] { return all_completed(41); }, seconds(30)));
  auto job = (*client)->Get(queues_[2], imported->back().id);
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->state, JobState::kCompleted);
  EXPECT_EQ((*job)->result_json, R"({"i":40})");

  // The live events of the three queues, read as one stream of events.
  std::map<std::string, int64_t> completed_events;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto events = events_reader->WaitEvents(cursors, std::chrono::milliseconds(300));
        if (!events.ok()) return false;
        for (const JobEvent& e : *events) {
          if (e.kind == "completed") completed_events[e.queue] += e.count;
        }
        return completed_events.size() == 3 && completed_events[queues_[0]] == 41 &&
               completed_events[queues_[1]] == 41 && completed_events[queues_[2]] == 41;
      },
      seconds(20)));
}

TEST_F(ClusterSystemTest, AnIdleWorkerWakesAtOnceForAJobOnAnyMaster) {
  auto client = std::move(*Client::Open({url_}));
  auto inspector = std::move(*Inspector::Open({url_}));
  // The idle poll is a minute: a job that starts sooner was heard through the subscription to
  // its queue's master.
  WorkerProcess worker(url_, queues_[0] + "=1," + queues_[1] + "=1," + queues_[2] + "=1", 5000,
                       1000, /*idle_poll_ms=*/60000);
  for (const std::string& q : queues_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the worker idles, subscribed
    ASSERT_TRUE(client->Enqueue(Echo(q, 1)).ok());
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto counts = inspector->Counts(q);
          return counts.ok() && counts->completed == 1;
        },
        seconds(20)))
        << q;
  }
}

TEST_F(ClusterSystemTest, MastersThatForgotTheScriptsAreGivenThemAgain) {
  auto client = std::move(*Client::Open({url_}));
  ASSERT_TRUE(client->Enqueue(Echo(queues_[0], 1)).ok());  // the scripts are loaded
  std::vector<std::vector<broker::Reply>> flushed;
  const broker::Command flush{"SCRIPT", "FLUSH"};
  ASSERT_TRUE(cluster_->OnEveryMaster(std::span(&flush, 1), &flushed).ok());
  for (const std::string& q : queues_) {
    auto created = client->Enqueue(Echo(q, 2));
    EXPECT_TRUE(created.ok()) << q << ": " << created.status().ToString();
  }
  auto counts = std::move(*Inspector::Open({url_}))->Counts(queues_[2]);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->waiting, 1);
}

// A queue spread over three shards lands one shard on each master, and runs as one queue: jobs
// placed on every shard, an idle worker woken on each shard's master, counts and reads by id over
// all of them.
TEST_F(ClusterSystemTest, AShardedQueueSpreadsOverEveryMasterAndRunsAsOne) {
  const std::string queue = queues_[0] + "-sharded";
  auto client = std::move(*Client::Open({url_}));
  auto inspector = std::move(*Inspector::Open({url_}));
  ASSERT_TRUE(inspector->SetShards(queue, 3).ok());
  const broker::QueueKeys home("taskq", queue);
  std::vector<broker::Reply> read;
  const broker::Command stags{"HGET", home.meta(), "stags"};
  ASSERT_TRUE(cluster_->Pipeline(home.slot(), std::span(&stags, 1), &read).ok());
  std::vector<std::string> tags = {queue};
  for (std::string_view tag : SplitList(read.front().view().str(), ' ')) tags.emplace_back(tag);
  ASSERT_EQ(tags.size(), 3u);
  std::set<std::string> masters;
  for (const std::string& tag : tags) {
    masters.insert(cluster_->map().MasterOf(broker::QueueKeys("taskq", tag).slot())->address());
  }
  EXPECT_EQ(masters.size(), 3u);
  // The breakdown names each shard's master: three distinct ones, each a master of the cluster.
  auto cluster_masters = inspector->ClusterMasters();
  ASSERT_TRUE(cluster_masters.ok()) << cluster_masters.status().ToString();
  EXPECT_EQ(std::set<std::string>(cluster_masters->begin(), cluster_masters->end()),
            MasterAddresses());
  auto breakdown = inspector->ShardBreakdown(queue);
  ASSERT_TRUE(breakdown.ok()) << breakdown.status().ToString();
  std::set<std::string> shown;
  for (const QueueShard& shard : breakdown->shards) {
    EXPECT_EQ(shard.tag, tags[static_cast<size_t>(shard.index)]);
    EXPECT_TRUE(MasterAddresses().contains(shard.master)) << shard.master;
    shown.insert(shard.master);
  }
  EXPECT_EQ(shown, masters);
  auto completed_on = [&](const std::string& tag) -> int64_t {
    const broker::QueueKeys keys("taskq", tag);
    const broker::Command get{"HGET", keys.meta(), "completed"};
    std::vector<broker::Reply> replies;
    if (!cluster_->Pipeline(keys.slot(), std::span(&get, 1), &replies).ok()) return -1;
    return replies.front().view().is_string() ? replies.front().view().AsInt() : 0;
  };

  std::vector<EnqueueRequest> bulk;
  for (int i = 0; i < 300; ++i) bulk.push_back(Echo(queue, i));
  auto created = client->EnqueueBulk(bulk);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  // The idle poll is a minute: jobs enqueued while the worker idles start because each shard's
  // master woke it.
  WorkerProcess worker(url_, queue + "=6", 5000, 1000, /*idle_poll_ms=*/60000);
  auto completed = [&] {
    auto counts = inspector->Counts(queue);
    return counts.ok() ? counts->completed : -1;
  };
  ASSERT_TRUE(WaitUntil([&] { return completed() == 300; }, seconds(30))) << completed();
  std::map<std::string, int64_t> before;
  for (const std::string& tag : tags) {
    before[tag] = completed_on(tag);
    EXPECT_GT(before[tag], 50) << tag;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the worker idles, subscribed
  std::vector<std::string> late;
  for (int i = 0; i < 30; ++i) {
    auto one = client->Enqueue(Echo(queue, 1000 + i));
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    late.push_back(one->id);
  }
  ASSERT_TRUE(WaitUntil([&] { return completed() == 330; }, seconds(20))) << completed();
  for (const std::string& tag : tags) EXPECT_GT(completed_on(tag), before[tag]) << tag;
  auto job = client->Get(queue, late.back());
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->state, JobState::kCompleted);
  EXPECT_EQ((*job)->result_json, R"({"i":1029})");
  EXPECT_EQ((*job)->queue, queue);
}

// A reshard that leaves two shards of a queue on one master while another master serves none of
// them: the breakdown shows it, and TaskqShardsShareMaster fires on what the breakdown and the
// cluster's masters say (the inputs GET /api/alerts reads).
TEST_F(ClusterSystemTest, ShardsMovedOntoOneMasterRaiseTaskqShardsShareMaster) {
  const std::string queue = queues_[1] + "-crowded";
  auto inspector = std::move(*Inspector::Open({url_}));
  ASSERT_TRUE(inspector->SetShards(queue, 3).ok());
  auto alerts = [&]() -> std::vector<api::Alert> {
    auto masters = inspector->ClusterMasters();
    auto breakdown = inspector->ShardBreakdown(queue);
    if (!masters.ok() || !breakdown.ok()) return {};
    api::QueueAlertInput in;
    in.queue = queue;
    for (const QueueShard& shard : breakdown->shards) in.shard_masters.push_back(shard.master);
    return api::EvaluateAlerts({in}, {}, {}, *masters);
  };
  auto before = inspector->ShardBreakdown(queue);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->shards.size(), 3u);
  EXPECT_TRUE(alerts().empty());  // one shard on each master

  // Shard 2's slot (only its layout is there: the queue holds no job) moves to shard 1's master.
  const uint16_t moved = broker::QueueKeys("taskq", before->shards[2].tag).slot();
  const broker::ClusterNode* crowded =
      cluster_->map().MasterOf(broker::QueueKeys("taskq", before->shards[1].tag).slot());
  ASSERT_NE(crowded, nullptr);
  const broker::ClusterNode to = *crowded;
  ASSERT_TRUE(MoveSlot(cluster_->map(), moved, to));
  std::set<std::string> idle = MasterAddresses();
  idle.erase(before->shards[0].master);
  idle.erase(to.address());
  ASSERT_EQ(idle.size(), 1u);

  std::vector<api::Alert> raised;
  ASSERT_TRUE(WaitUntil(
      [&] {
        raised = alerts();
        return !raised.empty();
      },
      seconds(10)));
  auto after = inspector->ShardBreakdown(queue);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->shards[0].master, before->shards[0].master);
  EXPECT_EQ(after->shards[1].master, to.address());
  EXPECT_EQ(after->shards[2].master, to.address());
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].name, "TaskqShardsShareMaster");
  EXPECT_EQ(raised[0].queue, queue);
  EXPECT_NE(raised[0].summary.find("shards 1, 2 share master " + to.address() +
                                   ", while master(s) " + *idle.begin() + " serve none"),
            std::string::npos)
      << raised[0].summary;
  // The queue still works where its shards now are.
  auto client = std::move(*Client::Open({url_}));
  std::vector<EnqueueRequest> bulk;
  for (int i = 0; i < 30; ++i) bulk.push_back(Echo(queue, i));
  ASSERT_TRUE(client->EnqueueBulk(bulk).ok());
  auto counts = inspector->ShardBreakdown(queue);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  int64_t waiting = 0;
  for (const QueueShard& shard : counts->shards) waiting += shard.counts.waiting;
  EXPECT_EQ(waiting, 30);
}

}  // namespace
}  // namespace taskq::testing
