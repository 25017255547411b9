// The KEYS lists of broker/script_keys.h against each script's contract header: the broker and
// the script tests both take their KEYS from the builders, so only this compares them with what
// the scripts expect ("KEYS[1] active   KEYS[2] retry ..." in the header).
#include "broker/script_keys.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "broker/keys.h"
#include "broker/scripts.h"

namespace taskq::broker {
namespace {

// The key names a header uses where they differ from the key's own suffix (broker/keys.cc).
const std::map<std::string, std::string> kHeaderNames = {
    {"rl", "rate"}, {"gring", "group"}, {"gheld", "held"}, {"outbox:lease", "outbox_lease"}};

// "KEYS[1] active   KEYS[2] retry": the names, in order of their numbers.
std::vector<std::string> HeaderKeys(std::string_view script) {
  const std::string body(ScriptNamed(script).body);
  const std::string header = body.substr(0, body.find("]]"));
  std::map<int, std::string> by_number;
  static const std::regex kKey(R"(KEYS\[(\d+)\] ([a-z_]+))");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), kKey);
       it != std::sregex_iterator(); ++it) {
    by_number[std::stoi((*it)[1])] = (*it)[2];
  }
  std::vector<std::string> names;
  for (const auto& [number, name] : by_number) {
    EXPECT_EQ(number, static_cast<int>(names.size()) + 1) << script << ": KEYS numbered with gaps";
    names.push_back(name);
  }
  return names;
}

// The builder's keys as the header names them.
std::vector<std::string> BuiltNames(const QueueKeys& k, const ScriptKeys& keys) {
  std::vector<std::string> names;
  for (const std::string& key : keys) {
    EXPECT_EQ(key.rfind(k.base(), 0), 0u) << key << " is not under " << k.base();
    std::string suffix = key.substr(k.base().size());
    auto alias = kHeaderNames.find(suffix);
    names.push_back(alias == kHeaderNames.end() ? suffix : alias->second);
  }
  return names;
}

TEST(ScriptKeysTest, EveryBuilderListsTheKeysItsScriptsHeaderNamesInOrder) {
  const QueueKeys k("taskq", "q");
  const std::vector<std::pair<std::string, ScriptKeys>> scripts = {
      {"enqueue", EnqueueKeys(k)},
      {"enqueue_one", EnqueueOneKeys(k)},
      {"claim", ClaimKeys(k)},
      {"complete", CompleteKeys(k)},
      {"fail", FailKeys(k)},
      {"postpone", PostponeKeys(k)},
      {"progress", ProgressKeys(k)},
      {"overrun", OverrunKeys(k)},
      {"extend", ExtendKeys(k)},
      {"recover", RecoverKeys(k)},
      {"release", ReleaseKeys(k)},
      {"lost_claim", LostClaimKeys(k)},
      {"promote", PromoteKeys(k)},
      {"remove", RemoveKeys(k)},
      {"retry_dead", RetryDeadKeys(k)},
      {"pause", PauseKeys(k)},
      {"queue_limits", QueueLimitsKeys(k)},
      {"shard_layout", ShardLayoutKeys(k)},
      {"get_job", GetJobKeys(k)},
      {"group_page", GroupPageKeys(k)},
      {"outbox_take", OutboxKeys(k)},
      {"outbox_ack", OutboxKeys(k)},
      {"history_record", HistoryRecordKeys(k)},
  };
  for (const auto& [script, keys] : scripts) {
    EXPECT_EQ(BuiltNames(k, keys), HeaderKeys(script)) << script;
  }
}

}  // namespace
}  // namespace taskq::broker
