// ClusterConnection against the real local cluster (the CTest fixture of
// tests/testing/redis_cluster.py): pipelines on the master of their slot, and the redirections
// a slot that moves, or is moving, answers with. The slots these tests move are their own; the
// other tests read the slot map afresh.
#include "broker/cluster_connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster/fixture_nodes.h"

namespace taskq::broker {
namespace {

std::vector<ClusterSeed> Seeds() {
  std::vector<ClusterSeed> seeds;
  for (const std::string& node : testing::FixtureClusterNodes()) {
    const auto colon = node.rfind(':');
    seeds.push_back({node.substr(0, colon), std::stoi(node.substr(colon + 1))});
  }
  return seeds;
}

class ClusterConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seeds_ = Seeds();
    ASSERT_EQ(seeds_.size(), 6u) << "run under ctest (label cluster), which starts the cluster";
    auto opened = ClusterConnection::Open(RedisEndpoint{}, seeds_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    cluster_ = std::move(*opened);
  }

  // A plain connection to one node.
  static std::unique_ptr<RedisConnection> Direct(const ClusterNode& node) {
    RedisEndpoint endpoint;
    endpoint.host = node.host;
    endpoint.port = node.port;
    auto connection = RedisConnection::Open(endpoint);
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return connection.ok() ? std::move(*connection) : nullptr;
  }
  static std::string Run(const ClusterNode& node, const Command& command) {
    auto reply = Direct(node)->Run(command);
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? std::string(reply->view().str()) : "";
  }

  // A master other than `owner`.
  const ClusterNode& OtherMaster(const ClusterNode& owner) const {
    for (const ClusterNode& m : cluster_->map().masters()) {
      if (m.id != owner.id) return m;
    }
    return owner;
  }

  // Starts moving `slot` from `from` to `to` (importing on `to`, migrating on `from`).
  static void StartMove(uint16_t slot, const ClusterNode& from, const ClusterNode& to) {
    const std::string s = std::to_string(slot);
    ASSERT_EQ(Run(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", from.id}), "OK");
    ASSERT_EQ(Run(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", to.id}), "OK");
  }
  // Ends the move: `slot` is `to`'s on every master.
  void EndMove(uint16_t slot, const ClusterNode& to) {
    const std::string s = std::to_string(slot);
    ASSERT_EQ(Run(to, {"CLUSTER", "SETSLOT", s, "NODE", to.id}), "OK");
    for (const ClusterNode& master : cluster_->map().masters()) {
      if (master.id != to.id) {
        ASSERT_EQ(Run(master, {"CLUSTER", "SETSLOT", s, "NODE", to.id}), "OK");
      }
    }
  }

  std::vector<ClusterSeed> seeds_;
  std::unique_ptr<ClusterConnection> cluster_;
};

TEST_F(ClusterConnectionTest, EachPipelineRunsOnTheMasterOfItsSlot) {
  for (const char* queue : {"email", "webhook", "export", "cleanup", "image-resize", "q9"}) {
    const std::string key = std::string("taskq:{") + queue + "}:conn-test";
    const uint16_t slot = KeySlot(key);
    std::vector<Reply> replies;
    const std::vector<Command> commands = {{"SET", key, queue}, {"GET", key}, {"DEL", key + "x"}};
    ASSERT_TRUE(cluster_->Pipeline(slot, commands, &replies).ok());
    ASSERT_EQ(replies.size(), 3u);
    EXPECT_EQ(replies[0].view().str(), "OK");
    EXPECT_EQ(replies[1].view().str(), queue);
    EXPECT_EQ(Run(*cluster_->map().MasterOf(slot), {"GET", key}), queue);
  }
  EXPECT_EQ(cluster_->redirections(), 0);
  EXPECT_EQ(cluster_->map_reads(), 1);
}

TEST_F(ClusterConnectionTest, AMovedSlotIsFollowedAndTheMapReadAgain) {
  const std::string key = "taskq:{moves-for-good}:x";
  const uint16_t slot = KeySlot(key);
  const ClusterNode from = *cluster_->map().MasterOf(slot);
  const ClusterNode to = OtherMaster(from);
  // The slot (empty) moves: importing, migrating, then its new owner on every master.
  StartMove(slot, from, to);
  EndMove(slot, to);
  // The map is read again at most every 100 ms: past that, MOVED reads it.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  std::vector<Reply> replies;  // the connection's map still names `from`
  const std::vector<Command> commands = {{"SET", key, "v"}, {"GET", key}};
  const Status run = cluster_->Pipeline(slot, commands, &replies);
  ASSERT_TRUE(run.ok()) << run.ToString();
  EXPECT_EQ(replies[0].view().str(), "OK");
  EXPECT_EQ(replies[1].view().str(), "v");
  EXPECT_EQ(cluster_->redirections(), 2);  // both commands said MOVED
  EXPECT_GE(cluster_->map_reads(), 2);
  EXPECT_EQ(Run(to, {"GET", key}), "v");
}

TEST_F(ClusterConnectionTest, AKeyOfASlotBeingMovedIsAskedForWhereItGoes) {
  const std::string key = "taskq:{moves-now}:x";
  const uint16_t slot = KeySlot(key);
  const ClusterNode from = *cluster_->map().MasterOf(slot);
  const ClusterNode to = OtherMaster(from);
  StartMove(slot, from, to);
  // The key is not on `from`: it answers ASK, and the command runs on `to` after ASKING.
  std::vector<Reply> replies;
  const Status run = cluster_->Pipeline(slot, {{Command{"SET", key, "asked"}}}, &replies);
  ASSERT_TRUE(run.ok()) << run.ToString();
  EXPECT_EQ(replies[0].view().str(), "OK");
  EXPECT_EQ(cluster_->redirections(), 1);
  EXPECT_EQ(cluster_->map_reads(), 1);  // ASK does not change the map
  // The migration ends: the slot (with its key) is `to`'s on every master.
  EndMove(slot, to);
  EXPECT_EQ(Run(to, {"GET", key}), "asked");
}

}  // namespace
}  // namespace taskq::broker
