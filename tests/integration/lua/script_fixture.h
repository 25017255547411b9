// Fixture for the per-script tests: one redis-server for the whole binary, flushed before each
// test; helpers to run a script by name, seed keys and read them back.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/keys.h"
#include "broker/redis_connection.h"
#include "broker/scripts.h"
#include "testing/redis_server.h"

namespace taskq::testing {

class ScriptTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!server_) server_ = std::make_unique<RedisServer>();
  }
  void SetUp() override { server_->Run(broker::Command{"FLUSHALL"}); }

  // "taskq:{q}:"
  const broker::QueueKeys& q() const { return keys_; }
  const std::string& base() const { return keys_.base(); }

  broker::Reply Eval(std::string_view script, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args) {
    const broker::ScriptSource& source = broker::ScriptNamed(script);
    broker::Command command{"EVAL", source.body};
    command.Add(static_cast<long long>(keys.size()));
    for (const auto& k : keys) command.Add(k);
    for (const auto& a : args) command.Add(a);
    return server_->Run(command);
  }

  broker::Reply Run(const broker::Command& command) { return server_->Run(command); }
  std::string Get(const std::string& key) { return std::string(Run({"GET", key}).view().str()); }
  std::string HGet(const std::string& key, const std::string& field) {
    return std::string(Run({"HGET", key, field}).view().str());
  }
  bool Exists(const std::string& key) { return Run({"EXISTS", key}).view().integer() == 1; }
  std::vector<std::string> Strings(const broker::Command& command) {
    broker::Reply reply = Run(command);
    std::vector<std::string> out;
    for (size_t i = 0; i < reply.view().size(); ++i) {
      out.emplace_back(reply.view()[i].str());
    }
    return out;
  }
  std::vector<std::string> List(const std::string& key) { return Strings({"LRANGE", key, "0", "-1"}); }
  std::vector<std::string> ZMembers(const std::string& key) {
    return Strings({"ZRANGE", key, "0", "-1"});
  }
  double ZScore(const std::string& key, const std::string& member) {
    auto reply = Run({"ZSCORE", key, member});
    return reply.view().is_nil() ? -1 : std::stod(std::string(reply.view().str()));
  }
  long long Now() {
    auto t = Run({"TIME"});
    return std::stoll(std::string(t.view()[0].str())) * 1000 +
           std::stoll(std::string(t.view()[1].str())) / 1000;
  }
  // Every key in the database, for "nothing was written" assertions.
  std::vector<std::string> AllKeys() {
    auto keys = Strings({"KEYS", "*"});
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  // Integers of an array reply.
  static std::vector<long long> Ints(const broker::Reply& reply) {
    std::vector<long long> out;
    for (size_t i = 0; i < reply.view().size(); ++i) out.push_back(reply.view()[i].AsInt());
    return out;
  }

  // Seeds a job through the real enqueue script.
  void Enqueue(const std::string& id, int priority = 0, long long delay_ms = 0) {
    auto reply = Eval("enqueue", {q().wait(), q().prioritized(), q().delayed(), q().meta()},
                      {base(), "1", id, R"({"t":"email","d":{}})", std::to_string(priority),
                       std::to_string(delay_ms), "-1"});
    ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  }
  // Claims through the real claim script; returns the claim reply.
  broker::Reply Claim(int n, long long lease_ms = 30000) {
    return Eval("claim",
                {q().wait(), q().prioritized(), q().delayed(), q().retry(), q().active(),
                 q().meta()},
                {base(), std::to_string(n), std::to_string(lease_ms), "1000"});
  }
  // ids of a claim reply, in order
  static std::vector<std::string> ClaimedIds(const broker::Reply& reply) {
    std::vector<std::string> ids;
    for (size_t i = 5; i < reply.view().size(); i += 4) {
      ids.emplace_back(reply.view()[i].str());
    }
    return ids;
  }
  static std::string TokenOf(const broker::Reply& claim, size_t index) {
    return std::to_string(claim.view()[5 + 4 * index + 3].AsInt());
  }
  // Finishes a claimed job through the real complete / fail scripts (no retention: every finished
  // job is kept). retry_delay_ms -1 sends the job to dead.
  void CompleteJob(const std::string& id, const std::string& token) {
    auto reply = Eval("complete", {q().active(), q().completed(), q().meta()},
                      {base(), "1", "-1", "0", id, token, "null"});
    ASSERT_EQ(Ints(reply), (std::vector<long long>{1})) << reply.view().str();
  }
  void FailJob(const std::string& id, const std::string& token, long long retry_delay_ms,
               const std::string& message = "boom") {
    auto reply = Eval("fail", {q().active(), q().retry(), q().dead(), q().meta()},
                      {base(), "1", "100", "-1", "0", id, token, std::to_string(retry_delay_ms),
                       R"({"message":")" + message + R"("})"});
    ASSERT_EQ(Ints(reply).size(), 1u) << reply.view().str();
    ASSERT_NE(Ints(reply)[0], 0);
  }

  // Every key with its value as text (hash fields, list items, zset members with scores), for
  // "nothing changed" assertions.
  std::map<std::string, std::vector<std::string>> Snapshot() {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& key : AllKeys()) {
      std::string type(Run({"TYPE", key}).view().str());
      std::vector<std::string>& value = out[key];
      if (type == "string") {
        value = {Get(key)};
      } else if (type == "hash") {
        value = Strings({"HGETALL", key});
      } else if (type == "list") {
        value = List(key);
      } else if (type == "zset") {
        value = Strings({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      } else {
        value = Strings({"SMEMBERS", key});
      }
    }
    return out;
  }

  // A subscription to the queue's wake channel, for CountWakes.
  std::unique_ptr<broker::RedisConnection> ListenForWakes() {
    auto subscriber = server_->Connect();
    EXPECT_TRUE(subscriber->Send({"SUBSCRIBE", q().wake_channel()}).ok());
    EXPECT_TRUE(subscriber->Receive().ok());  // confirmation
    return subscriber;
  }
  // The wakes published since the subscription or the previous call. Publishes a marker and reads
  // up to it, so that "no wake" is observed without waiting for a timeout.
  int CountWakes(broker::RedisConnection& subscriber) {
    Run({"PUBLISH", q().wake_channel(), "marker"});
    int wakes = 0;
    for (;;) {
      auto message = subscriber.Receive();
      if (!message.ok()) {
        ADD_FAILURE() << message.status().ToString();
        return -1;
      }
      if (message->view()[2].str() == "marker") return wakes;
      ++wakes;
    }
  }

  static std::unique_ptr<RedisServer> server_;  // destroyed (killed) at exit
  broker::QueueKeys keys_{"taskq", "q"};
};

}  // namespace taskq::testing
