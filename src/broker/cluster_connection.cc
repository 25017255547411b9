#include "broker/cluster_connection.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <tuple>

namespace taskq::broker {
namespace {

// Redirections and retries one pipeline follows before it gives up: a slot moves once, and a
// failover settles within seconds, so more would only hide a cluster that is not converging.
constexpr int kMaxRounds = 5;
constexpr std::chrono::milliseconds kRetryPause{25};
// A redirection or an unreachable master reads the map again at most this often: while a
// failover is under way every call would otherwise ask a node for the whole map, every round.
constexpr std::chrono::milliseconds kMinMapReadInterval{100};

// Where one command goes next.
struct Target {
  std::string host;
  int port = 0;
  bool asking = false;  // ASK: send ASKING first, on that node, for this command only
};

bool IsRetryable(std::string_view error) {
  return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
}

// The node is no master now (a failover demoted it, or it is still loading): nothing ran, and the
// map names who serves the slot now.
bool IsNotMasterNow(std::string_view error) {
  return error.starts_with("READONLY") || error.starts_with("MASTERDOWN") ||
         error.starts_with("LOADING");
}

}  // namespace

RedisEndpoint ClusterNodeEndpoint(const RedisEndpoint& cluster, const std::string& host, int port) {
  RedisEndpoint node = cluster;
  node.host = host;
  node.port = port;
  node.unix_socket.clear();
  node.db = 0;
  node.cluster_seeds.clear();
  node.sentinels.clear();
  node.master_name.clear();
  return node;
}

ClusterConnection::ClusterConnection(RedisEndpoint node, std::vector<ClusterSeed> seeds)
    : node_(std::move(node)), seeds_(std::move(seeds)) {}

Result<std::unique_ptr<ClusterConnection>> ClusterConnection::Open(const RedisEndpoint& node,
                                                                   std::vector<ClusterSeed> seeds) {
  if (seeds.empty()) return InvalidArgument("redis_url", "a cluster URL needs at least one node");
  std::unique_ptr<ClusterConnection> connection(new ClusterConnection(node, std::move(seeds)));
  TASKQ_RETURN_IF_ERROR(connection->RefreshMap());
  return connection;
}

Result<RedisConnection*> ClusterConnection::NodeConnection(const std::string& host, int port) {
  const std::string address = host + ":" + std::to_string(port);
  auto& connection = connections_[address];
  if (!connection || !connection->CheckUsable()) {
    auto opened = RedisConnection::Open(ClusterNodeEndpoint(node_, host, port));
    if (!opened.ok()) {
      connections_.erase(address);
      return opened.status();
    }
    connection = std::move(*opened);
  }
  return connection.get();
}

Status ClusterConnection::ReadMapFrom(const std::string& host, int port) {
  auto connection = NodeConnection(host, port);
  if (!connection.ok()) return connection.status();
  auto reply = (*connection)->Run(Command{"CLUSTER", "SHARDS"});
  if (!reply.ok()) return reply.status();
  auto map = SlotMap::FromClusterShards(reply->view(), node_.tls.enabled);
  if (!map.ok()) return map.status();
  map_ = std::move(*map);
  ++map_reads_;
  last_map_read_ = std::chrono::steady_clock::now();
  // Connections to nodes that are no masters now (gone, or demoted) are closed.
  for (auto it = connections_.begin(); it != connections_.end();) {
    const bool master = std::any_of(map_.masters().begin(), map_.masters().end(),
                                    [&](const ClusterNode& m) { return m.address() == it->first; });
    const bool seed = std::any_of(seeds_.begin(), seeds_.end(), [&](const ClusterSeed& s) {
      return s.host + ":" + std::to_string(s.port) == it->first;
    });
    it = master || seed || it->first == host + ":" + std::to_string(port) ? std::next(it)
                                                                          : connections_.erase(it);
  }
  return Status::Ok();
}

Status ClusterConnection::RefreshMap() {
  std::vector<ClusterSeed> candidates;
  for (const ClusterNode& master : map_.masters()) candidates.push_back({master.host, master.port});
  candidates.insert(candidates.end(), seeds_.begin(), seeds_.end());
  std::string failures;
  for (const ClusterSeed& candidate : candidates) {
    const Status read = ReadMapFrom(candidate.host, candidate.port);
    if (read.ok()) return read;
    failures += (failures.empty() ? "" : "; ") + candidate.host + ":" +
                std::to_string(candidate.port) + ": " + read.message();
  }
  return Unavailable("no cluster node gave its slot map (" + failures + ")");
}

Status ClusterConnection::Pipeline(uint16_t slot, std::span<const Command> commands,
                                   std::vector<Reply>* replies) {
  const std::vector<uint16_t> slots(commands.size(), slot);
  return PipelineAcross(slots, commands, replies);
}

Status ClusterConnection::PipelineAcross(std::span<const uint16_t> slots,
                                         std::span<const Command> commands,
                                         std::vector<Reply>* replies) {
  std::vector<Result<Reply>> each;
  PipelineAcrossEach(slots, commands, &each);
  return TakeAllReplies(each, replies);
}

void ClusterConnection::PipelineAcrossEach(std::span<const uint16_t> slots,
                                           std::span<const Command> commands,
                                           std::vector<Result<Reply>>* replies) {
  std::vector<std::optional<Result<Reply>>> answered(commands.size());
  std::vector<std::optional<Target>> targets(commands.size());  // nullopt: the map's master
  std::string last_error;
  for (int round = 0; round < kMaxRounds; ++round) {
    // The commands still to run, grouped by where they go.
    std::map<std::tuple<std::string, int, bool>, std::vector<size_t>> groups;
    bool refreshed = false;
    for (size_t i = 0; i < commands.size(); ++i) {
      if (answered[i]) continue;
      Target target = targets[i] ? *targets[i] : Target{};
      if (!targets[i]) {
        const ClusterNode* owner = map_.MasterOf(slots[i]);
        if (owner == nullptr && !refreshed) {
          refreshed = true;
          if (RefreshMap().ok()) owner = map_.MasterOf(slots[i]);
        }
        if (owner == nullptr) {
          answered[i] = Unavailable("cluster: no master serves slot " + std::to_string(slots[i]));
          continue;
        }
        target = {owner->host, owner->port, false};
      }
      groups[{target.host, target.port, target.asking}].push_back(i);
    }
    if (groups.empty()) break;
    bool moved = false, retry = false;
    // Every node gets its commands first; then the replies are read, node by node. A node that
    // fails mid-way fails only its own commands (they may have run: nothing sends them again).
    struct Sent {
      RedisConnection* connection;
      const std::vector<size_t>* indices;
      bool asking;
    };
    std::vector<Sent> sent;
    auto fail_all = [&](const std::vector<size_t>& indices, const Status& status) {
      for (size_t i : indices) answered[i] = status;
    };
    for (const auto& [where, indices] : groups) {
      const auto& [host, port, asking] = where;
      auto connection = NodeConnection(host, port);
      if (!connection.ok()) {
        // Nothing ran there. The map may name a master that failed over: read it again, and
        // send these commands where it says next round.
        last_error = connection.status().message();
        for (size_t i : indices) targets[i].reset();
        moved = retry = true;
        continue;
      }
      std::vector<Command> batch;
      for (size_t i : indices) {
        if (asking) batch.push_back(Command{"ASKING"});
        batch.push_back(commands[i]);
      }
      const Status sending = (*connection)->SendAll(batch);
      if (!sending.ok()) {
        (*connection)->Abandon();
        fail_all(indices, sending);
        continue;
      }
      sent.push_back({*connection, &indices, asking});
    }
    for (const Sent& s : sent) {
      std::vector<Reply> got;
      const size_t count = s.indices->size() * (s.asking ? 2 : 1);
      const Status received = s.connection->ReceiveAll(count, &got);
      if (!received.ok()) {
        s.connection->Abandon();  // replies still owed must not reach the next caller
        fail_all(*s.indices, received);
        continue;
      }
      for (size_t k = 0; k < s.indices->size(); ++k) {
        const size_t i = (*s.indices)[k];
        Reply& reply = got[s.asking ? 2 * k + 1 : k];
        const std::string_view error = reply.view().is_error() ? reply.view().str() : "";
        if (auto redirect = ParseRedirection(error)) {
          ++redirections_;
          targets[i] = Target{redirect->host, redirect->port, redirect->ask};
          moved = moved || !redirect->ask;
          last_error = std::string(error);
        } else if (IsRetryable(error) || IsNotMasterNow(error)) {
          targets[i].reset();
          retry = true;
          moved = moved || IsNotMasterNow(error);
          last_error = std::string(error);
        } else {
          answered[i] = std::move(reply);
        }
      }
    }
    // The node that said MOVED named the new owner; the map learns it for the next calls.
    if (moved && std::chrono::steady_clock::now() - last_map_read_ >= kMinMapReadInterval) {
      (void)RefreshMap();
    }
    if (retry) std::this_thread::sleep_for(kRetryPause * (round + 1));
  }
  replies->clear();
  for (size_t i = 0; i < answered.size(); ++i) {
    if (answered[i]) {
      replies->push_back(std::move(*answered[i]));
    } else {
      replies->push_back(Unavailable("cluster: slot " + std::to_string(slots[i]) +
                                     " still redirects after " + std::to_string(kMaxRounds) +
                                     " tries (" + last_error + ")"));
    }
  }
}

Status ClusterConnection::OnEveryMaster(std::span<const Command> commands,
                                        std::vector<std::vector<Reply>>* replies) {
  if (map_.masters().empty()) TASKQ_RETURN_IF_ERROR(RefreshMap());
  replies->clear();
  for (const ClusterNode& master : map_.masters()) {
    auto connection = NodeConnection(master.host, master.port);
    if (!connection.ok()) return connection.status();
    replies->emplace_back();
    TASKQ_RETURN_IF_ERROR((*connection)->Pipeline(commands, &replies->back()));
  }
  return Status::Ok();
}

}  // namespace taskq::broker
