// worker_heartbeat.lua and worker_list.lua: the registry GET /api/workers reads.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class WorkerRegistryScriptTest : public ScriptTest {
 protected:
  const std::string key_ = broker::WorkerRegistryKey("taskq");
  const std::string sweep_key_ = key_ + ":sweep";
  broker::Reply Heartbeat(const std::string& id, const std::string& info,
                          long long sweep_age_ms = 60000) {
    return Eval("worker_heartbeat", {key_, sweep_key_}, {id, info, std::to_string(sweep_age_ms)});
  }
  broker::Reply List(long long max_age_ms) {
    return Eval("worker_list", {key_}, {std::to_string(max_age_ms)});
  }
};

TEST_F(WorkerRegistryScriptTest, HeartbeatStoresTheDescriptionWithRedisTime) {
  const long long before = Now();
  auto reply = Heartbeat("w1", R"({"host":"h","pid":7})");
  ASSERT_TRUE(reply.view().is_integer()) << reply.view().str();
  const long long at = reply.view().integer();
  EXPECT_GE(at, before);
  EXPECT_EQ(HGet(key_, "w1"), R"({"hb":)" + std::to_string(at) + R"(,"host":"h","pid":7})");
  Heartbeat("w1", "{}");  // an empty object stays valid JSON
  EXPECT_EQ(HGet(key_, "w1").substr(0, 6), R"({"hb":)");
  EXPECT_EQ(HGet(key_, "w1").back(), '}');
  EXPECT_EQ(HGet(key_, "w1").find(",}"), std::string::npos);
}

TEST_F(WorkerRegistryScriptTest, EmptyDescriptionRemovesTheWorker) {
  Heartbeat("w1", R"({"a":1})");
  Heartbeat("w2", R"({"a":2})");
  Heartbeat("w1", "");
  EXPECT_FALSE(HExists(key_, "w1"));
  EXPECT_TRUE(HExists(key_, "w2"));
}

TEST_F(WorkerRegistryScriptTest, RejectsBadInputAndWritesNothing) {
  EXPECT_TRUE(Heartbeat("", R"({"a":1})").view().is_error());
  EXPECT_TRUE(Heartbeat("w1", "[1]").view().is_error());
  EXPECT_TRUE(Heartbeat("w1", "{").view().is_error());
  EXPECT_TRUE(Heartbeat("w1", R"({"a":1})", 0).view().is_error());
  EXPECT_TRUE(Heartbeat("w1", R"({"a":1})", -5).view().is_error());
  EXPECT_TRUE(Eval("worker_heartbeat", {key_, sweep_key_}, {"w1", "{}", "1.5"}).view().is_error());
  EXPECT_TRUE(AllKeys().empty());
  EXPECT_TRUE(List(-1).view().is_error());
  EXPECT_TRUE(Eval("worker_list", {key_}, {"soon"}).view().is_error());
}

TEST_F(WorkerRegistryScriptTest, ListReturnsLiveWorkersAndDropsStaleOnes) {
  Heartbeat("live", R"({"n":1})");
  const long long now = Now();
  Run({"HSET", key_, "stale", R"({"hb":)" + std::to_string(now - 60000) + "}"});
  Run({"HSET", key_, "garbage", "not json"});
  auto reply = List(15000);
  ASSERT_TRUE(reply.view().is_array());
  ASSERT_EQ(reply.view().size(), 3u);
  EXPECT_GE(reply.view()[0].AsInt(), now);
  EXPECT_EQ(reply.view()[1].str(), "live");
  EXPECT_EQ(reply.view()[2].str().substr(0, 6), R"({"hb":)");
  EXPECT_FALSE(HExists(key_, "stale"));
  EXPECT_FALSE(HExists(key_, "garbage"));
  EXPECT_TRUE(HExists(key_, "live"));
}

// Workers killed with SIGKILL never remove their records. Heartbeats of the live ones sweep them,
// a few per call from a cursor, so the hash stays bounded with no one listing workers.
TEST_F(WorkerRegistryScriptTest, HeartbeatsSweepRecordsOfDeadWorkers) {
  const long long now = Now();
  for (int i = 0; i < 500; ++i) {
    Run({"HSET", key_, "dead" + std::to_string(i),
         R"({"hb":)" + std::to_string(now - 120000) + "}"});
  }
  Run({"HSET", key_, "garbage", "not json"});
  Run({"HSET", key_, "quiet", R"({"hb":)" + std::to_string(now - 30000) + "}"});
  int beats = 0;
  while (HLen(key_) > 2 && beats < 500) {
    auto reply = Heartbeat("live", R"({"n":1})");
    ASSERT_TRUE(reply.view().is_integer()) << reply.view().str();
    ++beats;
  }
  EXPECT_EQ(HLen(key_), 2) << "after " << beats << " heartbeats";
  EXPECT_TRUE(HExists(key_, "live"));
  EXPECT_TRUE(HExists(key_, "quiet"));  // silent for less than the sweep age: kept
  EXPECT_LT(beats, 100);                // about 20 records per beat
  // A whole pass ends with the cursor reset, not left behind.
  for (int i = 0; i < 5 && Exists(sweep_key_); ++i) Heartbeat("live", R"({"n":1})");
  EXPECT_FALSE(Exists(sweep_key_));
}

TEST_F(WorkerRegistryScriptTest, RegistryKeyCannotBeAQueueSlot) {
  // Queue names cannot start with ':' (ValidateName), so no queue shares the registry's slot.
  EXPECT_EQ(key_, "taskq:{:workers}");
}

}  // namespace
}  // namespace taskq::testing
