// A connection to a Redis Cluster: one RedisConnection per master, opened when first needed, and
// the slot map (cluster_slots.h) that says which master serves a slot. A pipeline whose keys all
// lie in one slot goes to that slot's master; replies that redirect (MOVED: the slot moved, ASK:
// it is moving and this key is already there) are followed for the commands they answer, and
// only those: the others ran. MOVED reads the slot map again. TRYAGAIN (a key in a slot being
// moved) and CLUSTERDOWN (a failover under way) are retried a few times with a short pause, and
// so are READONLY, MASTERDOWN and LOADING (a node that is no master now), after reading the map. A
// master that cannot be reached, or a slot no master serves, makes it read the map again (a
// failover promotes a replica, and the map names it).
// What a caller must know:
// - Commands that were redirected run after those that were not: order holds within each.
// - An error after some commands ran (a transport failure) says nothing about which ran, as
//   with RedisConnection: the caller treats the whole pipeline as unknown.
// Like RedisConnection, one thread uses it at a time.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "broker/cluster_slots.h"
#include "broker/redis_connection.h"
#include "broker/redis_endpoint.h"
#include "taskq/status.h"

namespace taskq::broker {

// The endpoint of one node of the cluster `cluster` names: its host and port, with the cluster's
// credentials, TLS settings and timeouts, by TCP, database 0.
RedisEndpoint ClusterNodeEndpoint(const RedisEndpoint& cluster, const std::string& host, int port);

class ClusterConnection {
 public:
  // Reads the slot map from the first seed that answers CLUSTER SHARDS. `node` gives what every
  // node connection shares: credentials, TLS, timeouts (its host and port are not used).
  static Result<std::unique_ptr<ClusterConnection>> Open(const RedisEndpoint& node,
                                                         std::vector<ClusterSeed> seeds);

  // Runs `commands`, whose keys all lie in `slot`, on the master serving it: one round trip
  // unless replies redirect. The replies are in the order of the commands.
  Status Pipeline(uint16_t slot, std::span<const Command> commands, std::vector<Reply>* replies);
  // As Pipeline, command i going to the master of slots[i]: the masters involved get theirs at
  // once, and then their replies are read, so the round trips overlap.
  Status PipelineAcross(std::span<const uint16_t> slots, std::span<const Command> commands,
                        std::vector<Reply>* replies);
  // As PipelineAcross, each command answered alone: a master that cannot be reached, or fails
  // mid-way, fails only the commands that went to it (which may have run).
  void PipelineAcrossEach(std::span<const uint16_t> slots, std::span<const Command> commands,
                          std::vector<Result<Reply>>* replies);
  // Runs `commands` on every master the map names (SCRIPT LOAD, CONFIG GET); (*replies)[m]
  // holds master m's replies, in the order of map().masters().
  Status OnEveryMaster(std::span<const Command> commands, std::vector<std::vector<Reply>>* replies);
  // Reads the slot map again, from the masters known and then the seeds.
  Status RefreshMap();
  const SlotMap& map() const { return map_; }
  // How many redirections were followed, and how often the map was read (for tests and
  // metrics).
  int64_t redirections() const { return redirections_; }
  int64_t map_reads() const { return map_reads_; }

 private:
  ClusterConnection(RedisEndpoint node, std::vector<ClusterSeed> seeds);
  // The connection to host:port, opened (or re-opened when broken) now.
  Result<RedisConnection*> NodeConnection(const std::string& host, int port);
  Status ReadMapFrom(const std::string& host, int port);

  RedisEndpoint node_;
  std::vector<ClusterSeed> seeds_;
  SlotMap map_;
  std::map<std::string, std::unique_ptr<RedisConnection>> connections_;  // by "host:port"
  int64_t redirections_ = 0;
  int64_t map_reads_ = 0;
  std::chrono::steady_clock::time_point last_map_read_{};
};

}  // namespace taskq::broker
