#include "api/alerts.h"

#include <gtest/gtest.h>

namespace taskq::api {
namespace {

QueueAlertInput Healthy(const std::string& queue) {
  QueueAlertInput q;
  q.queue = queue;
  q.waiting = 3;
  q.workers = 2;
  q.oldest_waiting_age_ms = 1000;
  return q;
}

std::vector<std::string> Names(const std::vector<Alert>& alerts) {
  std::vector<std::string> out;
  for (const Alert& a : alerts)
    out.push_back(a.name + "/" + a.queue.value_or(a.schedule.value_or("")));
  return out;
}

TEST(AlertsTest, AHealthyQueueAndAnOnTimeScheduleRaiseNothing) {
  EXPECT_TRUE(EvaluateAlerts({Healthy("email")}, {{"nightly", 900}}).empty());
  // Nothing waits and nobody serves: no alert either.
  QueueAlertInput idle = Healthy("idle");
  idle.waiting = 0;
  idle.workers = 0;
  idle.oldest_waiting_age_ms = 0;
  EXPECT_TRUE(EvaluateAlerts({idle}, {}).empty());
}

TEST(AlertsTest, EachRuleFiresPastItsThresholdOnly) {
  QueueAlertInput dead = Healthy("dead");
  dead.dead_recently = 4;
  QueueAlertInput orphan = Healthy("orphan");
  orphan.workers = 0;
  QueueAlertInput old = Healthy("old");
  old.oldest_waiting_age_ms = AlertThresholds{}.oldest_waiting_ms + 1;
  QueueAlertInput at_limit = Healthy("at-limit");
  at_limit.oldest_waiting_age_ms = AlertThresholds{}.oldest_waiting_ms;
  auto alerts = EvaluateAlerts({dead, orphan, old, at_limit},
                               {{"stuck", AlertThresholds{}.schedule_late_ms + 1},
                                {"fine", AlertThresholds{}.schedule_late_ms}});
  EXPECT_EQ(Names(alerts), (std::vector<std::string>{
                               "TaskqQueueWithoutWorkers/orphan", "TaskqScheduleStuck/stuck",
                               "TaskqDeadLetterGrowing/dead", "TaskqOldestWaitingTooOld/old"}));
  EXPECT_EQ(alerts[0].severity, "critical");
  EXPECT_EQ(alerts[0].value, 3);
  EXPECT_EQ(alerts[1].schedule, "stuck");
  EXPECT_FALSE(alerts[1].queue.has_value());
  EXPECT_EQ(alerts[2].severity, "warning");
  EXPECT_EQ(alerts[2].value, 4);
  EXPECT_NE(alerts[2].summary.find("4 job(s) of queue dead"), std::string::npos);
  EXPECT_DOUBLE_EQ(alerts[3].value, (AlertThresholds{}.oldest_waiting_ms + 1) / 1e3);
}

TEST(AlertsTest, ThresholdsAreTheCallersToSet) {
  QueueAlertInput old = Healthy("old");
  old.oldest_waiting_age_ms = 2500;
  AlertThresholds strict;
  strict.oldest_waiting_ms = 2000;
  strict.schedule_late_ms = 500;
  strict.dead_window_minutes = 3;
  EXPECT_TRUE(EvaluateAlerts({old}, {{"nightly", 900}}).empty());
  auto alerts = EvaluateAlerts({old}, {{"nightly", 900}}, strict);
  EXPECT_EQ(Names(alerts), (std::vector<std::string>{"TaskqScheduleStuck/nightly",
                                                     "TaskqOldestWaitingTooOld/old"}));
  EXPECT_NE(alerts[1].summary.find("(over 2 s)"), std::string::npos) << alerts[1].summary;
  old.dead_recently = 1;
  EXPECT_NE(EvaluateAlerts({old}, {}, strict)[0].summary.find("in the last 3 minutes"),
            std::string::npos);
}

// A healthy queue spread over shards served by these masters (host:port, by shard index).
QueueAlertInput Sharded(const std::string& queue, std::vector<std::string> shard_masters) {
  QueueAlertInput q = Healthy(queue);
  q.shard_masters = std::move(shard_masters);
  return q;
}

const std::vector<std::string> kThreeMasters = {"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"};

TEST(AlertsTest, ShardsSharingAMasterWhileAnotherServesNoneRaiseAWarning) {
  const std::string a = kThreeMasters[0], b = kThreeMasters[1], c = kThreeMasters[2];
  auto alerts = EvaluateAlerts({Sharded("orders", {a, a, b})}, {}, {}, kThreeMasters);
  ASSERT_EQ(Names(alerts), (std::vector<std::string>{"TaskqShardsShareMaster/orders"}));
  EXPECT_EQ(alerts[0].severity, "warning");
  EXPECT_EQ(alerts[0].value, 2);  // the shards that share a master
  // It names the queue, the shared master and its shards, the idle master, and what to do.
  const std::string& summary = alerts[0].summary;
  EXPECT_NE(summary.find("queue orders: shards 0, 1 share master " + a + ", while master(s) " + c +
                         " serve none of its 3 shards"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("redis-cli --cluster reshard"), std::string::npos) << summary;
  EXPECT_NE(summary.find("CLUSTER SETSLOT"), std::string::npos) << summary;
  EXPECT_NE(summary.find("`taskq shards orders 1` then `taskq shards orders 3`"), std::string::npos)
      << summary;
  // Four shards on two of three masters: both pairs are named.
  auto pairs = EvaluateAlerts({Sharded("orders", {a, b, a, b})}, {}, {}, kThreeMasters);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].value, 4);
  EXPECT_NE(pairs[0].summary.find("shards 0, 2 share master " + a + "; shards 1, 3 share master " +
                                  b + ", while master(s) " + c + " serve none of its 4 shards"),
            std::string::npos)
      << pairs[0].summary;
  // Critical alerts still come first.
  QueueAlertInput orphan = Sharded("orders", {a, a, b});
  orphan.workers = 0;
  EXPECT_EQ(Names(EvaluateAlerts({orphan}, {}, {}, kThreeMasters)),
            (std::vector<std::string>{"TaskqQueueWithoutWorkers/orders",
                                      "TaskqShardsShareMaster/orders"}));
}

TEST(AlertsTest, ShardsSpreadAsWidelyAsTheMastersAllowRaiseNothing) {
  const std::string a = kThreeMasters[0], b = kThreeMasters[1], c = kThreeMasters[2];
  // One shard on each master.
  EXPECT_TRUE(EvaluateAlerts({Sharded("orders", {a, b, c})}, {}, {}, kThreeMasters).empty());
  // More shards than masters, spread 2, 1, 1: no master is left idle.
  EXPECT_TRUE(EvaluateAlerts({Sharded("orders", {a, b, c, a})}, {}, {}, kThreeMasters).empty());
  // Fewer shards than masters, each on its own.
  EXPECT_TRUE(EvaluateAlerts({Sharded("orders", {c, a})}, {}, {}, kThreeMasters).empty());
  // Off a cluster: no shard has a master, and there are none to spread over.
  EXPECT_TRUE(EvaluateAlerts({Sharded("orders", {"", "", ""})}, {}, {}, {}).empty());
  EXPECT_TRUE(EvaluateAlerts({Sharded("orders", {})}, {}, {}, {}).empty());
  // The masters unknown (not read): nothing to say.
  EXPECT_TRUE(EvaluateAlerts({Sharded("orders", {a, a, b})}, {}, {}, {}).empty());
}

TEST(AlertsTest, RendersTheDocumentedShape) {
  QueueAlertInput orphan = Healthy("q\"1");
  orphan.workers = 0;
  EXPECT_EQ(RenderAlerts(EvaluateAlerts({orphan}, {}), {}, 42),
            R"({"alerts":[{"name":"TaskqQueueWithoutWorkers","severity":"critical",)"
            R"("queue":"q\"1","schedule":null,"summary":"3 job(s) wait in queue q\"1 and no )"
            R"(live worker serves it","value":3}],"thresholds":{"dead_window_minutes":10,)"
            R"("oldest_waiting_s":300,"schedule_late_s":60},"now_ms":42})");
  EXPECT_EQ(RenderAlerts({}, {1, 1500, 60000}, 7),
            R"({"alerts":[],"thresholds":{"dead_window_minutes":1,"oldest_waiting_s":1.5,)"
            R"("schedule_late_s":60},"now_ms":7})");
}

}  // namespace
}  // namespace taskq::api
