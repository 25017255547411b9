// Moving a slot of the fixture cluster to another master, keys and all, the way
// `redis-cli --cluster reshard` does: importing on the target, migrating on the source, the keys
// by one MIGRATE, then the slot the target's on every master (the target first: it takes a new
// config epoch). For tests of what taskq makes of a resharded cluster; the slots they move hold
// only their own keys, and the other tests read the slot map afresh.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "broker/cluster_slots.h"
#include "broker/redis_connection.h"

namespace taskq::testing {

inline ::testing::AssertionResult MoveSlot(const broker::SlotMap& map, uint16_t slot,
                                           const broker::ClusterNode& to) {
  const broker::ClusterNode* from = map.MasterOf(slot);
  if (from == nullptr) return ::testing::AssertionFailure() << "no master serves slot " << slot;
  if (from->id == to.id) return ::testing::AssertionSuccess();
  auto open = [](const broker::ClusterNode& node) -> std::unique_ptr<broker::RedisConnection> {
    broker::RedisEndpoint endpoint;
    endpoint.host = node.host;
    endpoint.port = node.port;
    auto connection = broker::RedisConnection::Open(endpoint);
    return connection.ok() ? std::move(*connection) : nullptr;
  };
  // The reply's text (an error's message too), or why there is none.
  auto run = [](broker::RedisConnection* node, const broker::Command& command) -> std::string {
    if (node == nullptr) return "(not reachable)";
    auto reply = node->Run(command);
    return reply.ok() ? std::string(reply->view().str()) : reply.status().ToString();
  };
  const std::string s = std::to_string(slot);
  auto source = open(*from), target = open(to);
  for (const auto& [node, command] :
       {std::pair{target.get(), broker::Command{"CLUSTER", "SETSLOT", s, "IMPORTING", from->id}},
        std::pair{source.get(), broker::Command{"CLUSTER", "SETSLOT", s, "MIGRATING", to.id}}}) {
    if (const std::string said = run(node, command); said != "OK") {
      return ::testing::AssertionFailure() << "CLUSTER SETSLOT " << s << ": " << said;
    }
  }
  auto keys = source->Run(broker::Command{"CLUSTER", "GETKEYSINSLOT", s, "1000"});
  if (!keys.ok()) return ::testing::AssertionFailure() << keys.status().ToString();
  if (keys->view().size() > 0) {
    broker::Command migrate{"MIGRATE", to.host, std::to_string(to.port), "", "0", "10000", "KEYS"};
    for (size_t i = 0; i < keys->view().size(); ++i) migrate.Add(keys->view()[i].str());
    if (const std::string said = run(source.get(), migrate); said != "OK") {
      return ::testing::AssertionFailure() << "MIGRATE: " << said;
    }
  }
  const broker::Command owned{"CLUSTER", "SETSLOT", s, "NODE", to.id};
  if (const std::string said = run(target.get(), owned); said != "OK") {
    return ::testing::AssertionFailure() << "CLUSTER SETSLOT NODE on the target: " << said;
  }
  for (const broker::ClusterNode& master : map.masters()) {
    if (master.id == to.id) continue;
    auto node = open(master);
    if (const std::string said = run(node.get(), owned); said != "OK") {
      return ::testing::AssertionFailure()
             << "CLUSTER SETSLOT NODE on " << master.address() << ": " << said;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace taskq::testing
