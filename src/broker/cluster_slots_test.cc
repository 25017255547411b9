#include "broker/cluster_slots.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

namespace taskq::broker {
namespace {

// A reply tree parsed from RESP text, as a connection would read it.
Reply Parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* raw = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &raw), REDIS_OK);
  EXPECT_NE(raw, nullptr) << "incomplete RESP";
  redisReaderFree(reader);
  return Reply(static_cast<redisReply*>(raw));
}

std::string Bulk(std::string_view text) {
  return "$" + std::to_string(text.size()) + "\r\n" + std::string(text) + "\r\n";
}

// One node of CLUSTER SHARDS, as Redis 7 writes it.
std::string Node(const std::string& id, int port, const std::string& role,
                 const std::string& health = "online", int tls_port = 0) {
  std::string fields = Bulk("id") + Bulk(id) + Bulk("port") + ":" + std::to_string(port) + "\r\n";
  int count = 7;
  if (tls_port > 0) {
    fields += Bulk("tls-port") + ":" + std::to_string(tls_port) + "\r\n";
    ++count;
  }
  fields += Bulk("ip") + Bulk("127.0.0.1") + Bulk("endpoint") + Bulk("127.0.0.1") + Bulk("role") +
            Bulk(role) + Bulk("replication-offset") + ":100\r\n" + Bulk("health") + Bulk(health);
  return "*" + std::to_string(count * 2) + "\r\n" + fields;
}

std::string Shard(const std::vector<int>& slots, const std::vector<std::string>& nodes) {
  std::string out = "*4\r\n" + Bulk("slots") + "*" + std::to_string(slots.size()) + "\r\n";
  for (int s : slots) out += ":" + std::to_string(s) + "\r\n";
  out += Bulk("nodes") + "*" + std::to_string(nodes.size()) + "\r\n";
  for (const auto& n : nodes) out += n;
  return out;
}

TEST(KeySlotTest, MatchesRedisClusterKeyslot) {
  // Figures from Redis' own documentation of CLUSTER KEYSLOT and the CRC16 check value.
  EXPECT_EQ(KeySlot("somekey"), 11058);
  EXPECT_EQ(KeySlot("foo{hash_tag}"), 2515);
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % kClusterSlots);
}

TEST(KeySlotTest, TheHashTagDecides) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("{user1000}.followers"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  EXPECT_NE(KeySlot("foo{}{bar}"), KeySlot("bar"));  // an empty tag: the whole key counts
  EXPECT_NE(KeySlot("foo{bar"), KeySlot("bar"));     // an unclosed one too
  // Every key of a taskq queue is in the queue's slot.
  EXPECT_EQ(KeySlot("taskq:{email}:wait"), KeySlot("email"));
  EXPECT_EQ(KeySlot("taskq:{email}:jobs"), KeySlot("taskq:{email}:events"));
}

TEST(SlotMapTest, ReadsMastersReplicasAndTheirSlots) {
  const Reply reply = Parse(
      "*3\r\n" + Shard({0, 5460}, {Node("a", 7000, "master"), Node("d", 7003, "replica")}) +
      Shard({5461, 10922}, {Node("b", 7001, "master"), Node("e", 7004, "replica", "loading")}) +
      Shard({10923, 12000, 12001, 16383}, {Node("c", 7002, "master")}));
  auto map = SlotMap::FromClusterShards(reply.view());
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  ASSERT_EQ(map->masters().size(), 3u);
  ASSERT_EQ(map->replicas().size(), 2u);
  EXPECT_FALSE(map->replicas()[1].healthy);
  EXPECT_EQ(map->MasterOf(0)->port, 7000);
  EXPECT_EQ(map->MasterOf(5460)->port, 7000);
  EXPECT_EQ(map->MasterOf(5461)->id, "b");
  EXPECT_EQ(map->MasterOf(12000)->address(), "127.0.0.1:7002");
  EXPECT_EQ(map->MasterOf(16383)->port, 7002);
  EXPECT_EQ(map->uncovered_slots(), 0);
}

TEST(SlotMapTest, TlsUsesTheTlsPortAndGapsAreUncovered) {
  const Reply reply =
      Parse("*2\r\n" + Shard({0, 99}, {Node("a", 7000, "master", "online", 8000)}) +
            Shard({}, {Node("b", 7001, "master", "online", 8001)}));  // no slots yet
  auto map = SlotMap::FromClusterShards(reply.view(), /*tls=*/true);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->MasterOf(50)->port, 8000);
  EXPECT_EQ(map->MasterOf(100), nullptr);
  EXPECT_EQ(map->uncovered_slots(), kClusterSlots - 100);
  EXPECT_EQ(map->masters().size(), 2u);
}

TEST(SlotMapTest, AfterAFailoverTheHealthyMasterServesAndUnusableNodesAreLeftOut) {
  const Reply reply = Parse(
      "*1\r\n" + Shard({0, 16383}, {Node("old", 7000, "master", "failed"),
                                    Node("new", 7003, "master"), Node("joining", 0, "replica")}));
  auto map = SlotMap::FromClusterShards(reply.view());
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->MasterOf(0)->id, "new");
  EXPECT_EQ(map->masters().size(), 2u);
  EXPECT_TRUE(map->replicas().empty());
}

TEST(SlotMapTest, RefusesWhatIsNoShardList) {
  EXPECT_FALSE(SlotMap::FromClusterShards(Parse("-ERR This instance has cluster support "
                                                "disabled\r\n")
                                              .view())
                   .ok());
  EXPECT_FALSE(SlotMap::FromClusterShards(Parse("+OK\r\n").view()).ok());
  EXPECT_FALSE(SlotMap::FromClusterShards(
                   Parse("*1\r\n" + Shard({0, 10}, {Node("d", 7003, "replica")})).view())
                   .ok());  // slots and no master
  EXPECT_FALSE(SlotMap::FromClusterShards(
                   Parse("*1\r\n" + Shard({10, 5}, {Node("a", 7000, "master")})).view())
                   .ok());  // a range backwards
  EXPECT_FALSE(SlotMap::FromClusterShards(
                   Parse("*1\r\n" + Shard({0, 16384}, {Node("a", 7000, "master")})).view())
                   .ok());  // past the last slot
}

TEST(RedirectionTest, ParsesMovedAndAsk) {
  auto moved = ParseRedirection("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved.has_value());
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->host, "127.0.0.1");
  EXPECT_EQ(moved->port, 6381);
  auto ask = ParseRedirection("ASK 16383 ::1:7000");
  ASSERT_TRUE(ask.has_value());
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->host, "::1");
  EXPECT_EQ(ask->port, 7000);
  for (const char* other :
       {"ERR unknown", "MOVED", "MOVED 3999", "MOVED x 127.0.0.1:1", "MOVED 16384 h:1",
        "MOVED 1 h:0", "MOVED 1 h:70000", "MOVED 1 :7000", "ASK 1 h", "TRYAGAIN Multiple keys"}) {
    EXPECT_FALSE(ParseRedirection(other).has_value()) << other;
  }
}

}  // namespace
}  // namespace taskq::broker
