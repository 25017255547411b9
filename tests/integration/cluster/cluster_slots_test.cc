// The slot arithmetic against a real Redis Cluster (3 masters, 3 replicas; the CTest fixture
// tests/testing/redis_cluster.py, whose directory TASKQ_TEST_CLUSTER names): the slot map read
// from CLUSTER SHARDS, KeySlot against CLUSTER KEYSLOT, and the MOVED replies of its nodes.
#include "broker/cluster_slots.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "broker/redis_connection.h"
#include "integration/cluster/fixture_nodes.h"

namespace taskq::broker {
namespace {

class ClusterSlotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes_ = testing::FixtureClusterNodes();
    ASSERT_EQ(nodes_.size(), 6u) << "run under ctest (label cluster), which starts the cluster";
    connection_ = Open(nodes_[0]);
    ASSERT_NE(connection_, nullptr);
  }

  static std::unique_ptr<RedisConnection> Open(const std::string& node) {
    auto endpoint = ParseRedisUrl("redis://" + node);
    auto connection = RedisConnection::Open(*endpoint);
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return connection.ok() ? std::move(*connection) : nullptr;
  }

  SlotMap Map() {
    auto reply = connection_->Run({"CLUSTER", "SHARDS"});
    EXPECT_TRUE(reply.ok());
    auto map = SlotMap::FromClusterShards(reply->view());
    EXPECT_TRUE(map.ok()) << map.status().ToString();
    return std::move(*map);
  }

  std::vector<std::string> nodes_;
  std::unique_ptr<RedisConnection> connection_;
};

TEST_F(ClusterSlotsTest, TheSlotMapNamesEveryNodeAndCoversEverySlot) {
  const SlotMap map = Map();
  ASSERT_EQ(map.masters().size(), 3u);
  ASSERT_EQ(map.replicas().size(), 3u);
  EXPECT_EQ(map.uncovered_slots(), 0);
  std::set<std::string> named;
  for (const auto* group : {&map.masters(), &map.replicas()}) {
    for (const ClusterNode& node : *group) {
      EXPECT_TRUE(node.healthy) << node.address();
      EXPECT_EQ(node.id.size(), 40u);
      named.insert(node.address());
    }
  }
  EXPECT_EQ(named, std::set<std::string>(nodes_.begin(), nodes_.end()));
}

TEST_F(ClusterSlotsTest, KeySlotAgreesWithRedisForAnyKey) {
  std::vector<std::string> keys = {"taskq:{email}:wait",
                                   "taskq:{:workers}",
                                   "taskq:queues",
                                   "{}",
                                   "{",
                                   "}{",
                                   "a{}b{c}",
                                   "a{{b}}",
                                   "{a}{b}",
                                   ""};
  std::mt19937 random(20261206);
  for (int i = 0; i < 300; ++i) {
    std::string key(random() % 24, '\0');
    for (char& c : key) c = static_cast<char>(random() % 4 == 0 ? "{}"[random() % 2] : random());
    keys.push_back(std::move(key));
  }
  std::vector<Command> commands;
  for (const std::string& key : keys) commands.push_back(Command{"CLUSTER", "KEYSLOT", key});
  std::vector<Reply> replies;
  ASSERT_TRUE(connection_->Pipeline(commands, &replies).ok());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(KeySlot(keys[i]), replies[i].view().integer()) << "key #" << i;
  }
}

TEST_F(ClusterSlotsTest, MovedRepliesNameTheMasterTheMapNames) {
  const SlotMap map = Map();
  int redirected = 0;
  for (const char* queue : {"email", "webhook", "export", "cleanup", "image-resize", "q1", "q2"}) {
    const std::string key = std::string("taskq:{") + queue + "}:probe";
    const ClusterNode* owner = map.MasterOf(KeySlot(key));
    ASSERT_NE(owner, nullptr);
    for (const ClusterNode& master : map.masters()) {
      auto connection = Open(master.address());
      ASSERT_NE(connection, nullptr);
      auto reply = connection->Run({"GET", key});
      ASSERT_TRUE(reply.ok());
      if (master.address() == owner->address()) {
        EXPECT_TRUE(reply->view().is_nil()) << master.address();
        continue;
      }
      auto moved = ParseRedirection(reply->view().str());
      ASSERT_TRUE(moved.has_value()) << reply->view().str();
      EXPECT_FALSE(moved->ask);
      EXPECT_EQ(moved->slot, KeySlot(key));
      EXPECT_EQ(moved->host + ":" + std::to_string(moved->port), owner->address());
      ++redirected;
    }
  }
  EXPECT_EQ(redirected, 7 * 2);  // each key, from the two masters that do not serve it
}

}  // namespace
}  // namespace taskq::broker
