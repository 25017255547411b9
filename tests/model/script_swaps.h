// What the randomized tests share to test themselves: scripts with a known defect put back, and
// every script declared "#!lua" on a server in cluster mode (Redis then refuses a key outside
// the slot of the keys a script was given).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "broker/scripts.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace taskq::model {

inline int64_t EnvInt(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoll(value, nullptr, 10) : fallback;
}

// Replaces `script` by its shipped body with each `from` replaced by its `to` (each must occur),
// until broker::RestoreScriptsForTesting.
inline void PutBackDefect(testing::RedisServer& server, const std::string& script,
                          const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string body(broker::ScriptNamed(script).body);
  for (const auto& [from, to] : edits) {
    size_t at = body.find(from);
    ASSERT_NE(at, std::string::npos) << script << " no longer holds: " << from;
    while (at != std::string::npos) {
      body.replace(at, from.size(), to);
      at = body.find(from, at + to.size());
    }
  }
  auto sha = server.Run({"SCRIPT", "LOAD", body});
  ASSERT_FALSE(sha.view().is_error()) << sha.view().str();
  broker::ReplaceScriptForTesting(script, body, std::string(sha.view().str()));
}

// `server` (started with --cluster-enabled) serves every slot, and every script runs declared
// "#!lua" until broker::RestoreScriptsForTesting.
inline void DeclareEveryScriptOnOneNodeCluster(testing::RedisServer& server) {
  ASSERT_EQ(server.Run({"CLUSTER", "ADDSLOTSRANGE", "0", "16383"}).view().str(), "OK");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return server.Run({"CLUSTER", "INFO"}).view().str().find("cluster_state:ok") !=
               std::string_view::npos;
      },
      std::chrono::seconds(10)));
  for (const broker::ScriptSource& script : broker::EmbeddedScripts()) {
    const std::string body = "#!lua\n" + std::string(script.body);
    auto sha = server.Run({"SCRIPT", "LOAD", body});
    ASSERT_FALSE(sha.view().is_error()) << script.name << ": " << sha.view().str();
    broker::ReplaceScriptForTesting(script.name, body, std::string(sha.view().str()));
  }
}

// A test suite with a server of its own, whose scripts a test may swap (PutBackDefect); every
// test ends with the shipped scripts back.
class ScriptSwapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new testing::RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void TearDown() override { broker::RestoreScriptsForTesting(); }
  void PutBackDefect(const std::string& script,
                     const std::vector<std::pair<std::string, std::string>>& edits) {
    model::PutBackDefect(*server_, script, edits);
  }

  static inline testing::RedisServer* server_ = nullptr;
};

inline testing::RedisServerOptions ClusterModeServer() {
  return testing::RedisServerOptions{
      .extra_args = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}};
}

}  // namespace taskq::model
