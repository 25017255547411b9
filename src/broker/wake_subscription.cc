// The wake channels a worker listens on, by sharded pub/sub (SSUBSCRIBE; the scripts SPUBLISH):
// one subscribed connection to one Redis, or one to each master serving the queues of a cluster
// (a shard channel lives on its slot's master). Read only when poll() finds a connection readable.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <map>

#include "broker/redis_broker.h"

namespace taskq::broker {
namespace {

class RedisWakeSubscription final : public WakeSubscription {
 public:
  RedisWakeSubscription(std::vector<std::unique_ptr<RedisConnection>> connections,
                        std::unordered_map<std::string, std::string> channel_to_queue)
      : connections_(std::move(connections)), channel_to_queue_(std::move(channel_to_queue)) {}

  Result<std::vector<std::string>> Wait(int interrupt_fd,
                                        std::chrono::milliseconds timeout) override {
    std::vector<std::string> woken;
    // Messages read already do not make a socket readable: take them first (the sockets
    // themselves are polled below, once).
    for (auto& connection : connections_) {
      TASKQ_RETURN_IF_ERROR(TakeReady(*connection, &woken, /*read_socket=*/false));
    }
    if (!woken.empty()) return woken;
    // Through Sentinel, a failover that froze or cut off the old master leaves this socket open
    // and silent: wakes would then go to the new master unheard until TCP gives up. So the wait
    // is cut at the next master check, and a moved master ends the subscription (the caller
    // subscribes again, through the sentinels).
    std::vector<pollfd> fds;
    for (auto& connection : connections_) {
      if (!connection->CheckUsable()) {
        return Unavailable("wake subscription: the master moved (Sentinel)");
      }
      const auto until_check = connection->UntilMasterCheck();
      if (until_check < timeout) {
        timeout = std::chrono::ceil<std::chrono::milliseconds>(until_check);
      }
      fds.push_back({connection->fd(), POLLIN, 0});
    }
    fds.push_back({interrupt_fd, POLLIN, 0});
    const auto ms = std::clamp<int64_t>(timeout.count(), 0, std::numeric_limits<int>::max());
    if (::poll(fds.data(), fds.size(), static_cast<int>(ms)) < 0 && errno != EINTR) {
      return Unavailable("wake subscription: poll failed");
    }
    if (fds.back().revents & POLLIN) {
      uint64_t signals = 0;
      if (::read(interrupt_fd, &signals, sizeof(signals)) < 0) {
        // EAGAIN: another reader took it; nothing is lost either way
      }
    }
    for (size_t i = 0; i < connections_.size(); ++i) {
      if (fds[i].revents != 0) TASKQ_RETURN_IF_ERROR(TakeReady(*connections_[i], &woken));
    }
    return woken;
  }

 private:
  Status TakeReady(RedisConnection& connection, std::vector<std::string>* woken,
                   bool read_socket = true) {
    while (true) {
      auto reply = connection.ReceiveIfReady(read_socket);
      if (!reply.ok()) return reply.status();
      if (!*reply) return Status::Ok();
      ReplyView v = (*reply)->view();
      if (v.size() == 3 && v[0].str() == "smessage") {
        auto it = channel_to_queue_.find(std::string(v[1].str()));
        if (it != channel_to_queue_.end()) woken->push_back(it->second);
      } else if (v.size() == 3 && v[0].str() == "sunsubscribe") {
        // A cluster moved the channel's slot to another master: subscribe again, there.
        connection.Abandon();
        return Unavailable("wake subscription: a queue's slot moved to another master");
      }
      // confirmations and unknown channels are skipped
    }
  }

  std::vector<std::unique_ptr<RedisConnection>> connections_;
  const std::unordered_map<std::string, std::string> channel_to_queue_;
};

// Subscribes `connection` to `channels` (one SSUBSCRIBE each: on a cluster one command's
// channels must share a slot) and waits for every confirmation, so no wake published after it
// returns can be missed. Under the command timeout, so a frozen Redis cannot hold it here.
Status Subscribe(RedisConnection& connection, const std::vector<std::string>& channels) {
  std::vector<Command> subscribes;
  for (const std::string& channel : channels) subscribes.push_back({"SSUBSCRIBE", channel});
  TASKQ_RETURN_IF_ERROR(connection.SendAll(subscribes));
  for (size_t i = 0; i < channels.size(); ++i) {
    auto reply = connection.Receive();
    if (!reply.ok()) return reply.status();
    if (reply->view().is_error()) {
      return Unavailable("wake subscription: " + std::string(reply->view().str()));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<WakeSubscription>> SubscribeWake(const BrokerOptions& options,
                                                        std::span<const std::string> queues) {
  auto endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) return endpoint.status();
  std::unordered_map<std::string, std::string> channel_to_queue;
  // The channels by where they live: "" on one Redis, else the address of their slot's master
  // (with the endpoint that reaches it).
  struct Place {
    RedisEndpoint target;
    std::vector<std::string> channels;
  };
  std::map<std::string, Place> channels_at;
  std::optional<SlotMap> map;
  if (endpoint->via_cluster()) {
    auto cluster = ClusterConnection::Open(*endpoint, endpoint->cluster_seeds);
    if (!cluster.ok()) return cluster.status();
    map = (*cluster)->map();
  }
  for (const std::string& queue : queues) {
    const QueueKeys keys(options.key_prefix, queue);
    std::string where;
    RedisEndpoint target = *endpoint;
    if (map) {
      const ClusterNode* master = map->MasterOf(keys.slot());
      if (master == nullptr) {
        return Unavailable("wake subscription: no master serves queue '" + queue + "'");
      }
      where = master->address();
      target = ClusterNodeEndpoint(*endpoint, master->host, master->port);
    }
    Place& place = channels_at.try_emplace(where, Place{std::move(target), {}}).first->second;
    place.channels.push_back(keys.wake_channel());
    channel_to_queue.emplace(keys.wake_channel(), queue);
  }
  std::vector<std::unique_ptr<RedisConnection>> connections;
  for (const auto& [where, place] : channels_at) {
    auto connection = RedisConnection::Open(place.target);
    if (!connection.ok()) return connection.status();
    TASKQ_RETURN_IF_ERROR(Subscribe(**connection, place.channels));
    connections.push_back(std::move(*connection));
  }
  // From now on each is read only when poll() finds it readable (Wait), so no read can block.
  return std::unique_ptr<WakeSubscription>(
      new RedisWakeSubscription(std::move(connections), std::move(channel_to_queue)));
}

}  // namespace taskq::broker
