// Redis Cluster's key space: which of the 16384 hash slots a key is in, which master serves each
// slot (the slot map, read from CLUSTER SHARDS), and the redirections a node answers with when a
// slot is elsewhere (MOVED, ASK). The routing connection builds on these; they do no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/redis_connection.h"
#include "taskq/status.h"

namespace taskq::broker {

constexpr int kClusterSlots = 16384;

// The slot of `key`: CRC16 (XMODEM) of its hash tag (the text between the first '{' and the
// next '}', when that is not empty), else of the whole key, modulo 16384.
uint16_t KeySlot(std::string_view key);

struct ClusterNode {
  std::string id;
  std::string host;  // as the cluster announces it (its endpoint, else its ip)
  int port = 0;
  bool healthy = true;  // "online" in CLUSTER SHARDS (not failed, not loading)

  std::string address() const { return host + ":" + std::to_string(port); }
};

// Which master serves each slot, and the replicas of each master.
class SlotMap {
 public:
  SlotMap() { owner_.fill(kNone); }  // no slot served
  // From a CLUSTER SHARDS reply (Redis 7). TLS clusters announce "tls-port": with `tls`, that
  // port is used. Nodes without a usable address are left out; a shard that lists two masters
  // (a failover) is served by the healthy one. An error when the reply is not one, or names no
  // master for a shard with slots.
  static Result<SlotMap> FromClusterShards(ReplyView reply, bool tls = false);

  // The master serving `slot`; null when no shard covers it (a cluster being set up).
  const ClusterNode* MasterOf(uint16_t slot) const;
  // Every master, each once, in the order of their first slot.
  const std::vector<ClusterNode>& masters() const { return masters_; }
  const std::vector<ClusterNode>& replicas() const { return replicas_; }
  // Slots no master serves.
  int uncovered_slots() const;

 private:
  static constexpr uint16_t kNone = 0xffff;
  std::vector<ClusterNode> masters_;
  std::vector<ClusterNode> replicas_;
  std::array<uint16_t, kClusterSlots> owner_{};  // index into masters_, or kNone
};

// A MOVED or ASK error reply: "MOVED 3999 127.0.0.1:6381", "ASK 3999 10.0.0.7:6380".
struct Redirection {
  bool ask = false;  // ASK: this command only, after ASKING; MOVED: the slot has moved for good
  uint16_t slot = 0;
  std::string host;
  int port = 0;
};
// The redirection an error reply names; nullopt for any other reply.
std::optional<Redirection> ParseRedirection(std::string_view error);

}  // namespace taskq::broker
