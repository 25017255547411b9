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

  static std::unique_ptr<RedisServer> server_;  // destroyed (killed) at exit
  broker::QueueKeys keys_{"taskq", "q"};
};

}  // namespace taskq::testing
