// The wake channels a worker listens on: one subscribed connection, read only when poll() finds
// it readable.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "broker/redis_broker.h"

namespace taskq::broker {
namespace {

class RedisWakeSubscription final : public WakeSubscription {
 public:
  RedisWakeSubscription(std::unique_ptr<RedisConnection> connection,
                        std::unordered_map<std::string, std::string> channel_to_queue)
      : connection_(std::move(connection)), channel_to_queue_(std::move(channel_to_queue)) {}

  Result<std::vector<std::string>> Wait(int interrupt_fd,
                                        std::chrono::milliseconds timeout) override {
    std::vector<std::string> woken;
    // Messages hiredis has read already do not make the socket readable: take them first (the
    // socket itself is polled below, once).
    TASKQ_RETURN_IF_ERROR(TakeReady(&woken, /*read_socket=*/false));
    if (!woken.empty()) return woken;
    // Through Sentinel, a failover that froze or cut off the old master leaves this socket open
    // and silent: wakes would then go to the new master unheard until TCP gives up. So the wait
    // is cut at the next master check, and a moved master ends the subscription (the caller
    // subscribes again, through the sentinels).
    if (!connection_->CheckUsable()) {
      return Unavailable("wake subscription: the master moved (Sentinel)");
    }
    const auto until_check = connection_->UntilMasterCheck();
    if (until_check < timeout) timeout = std::chrono::ceil<std::chrono::milliseconds>(until_check);
    pollfd fds[2] = {{connection_->fd(), POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    const auto ms = std::clamp<int64_t>(timeout.count(), 0, std::numeric_limits<int>::max());
    if (::poll(fds, 2, static_cast<int>(ms)) < 0 && errno != EINTR) {
      return Unavailable("wake subscription: poll failed");
    }
    if (fds[1].revents & POLLIN) {
      uint64_t signals = 0;
      if (::read(interrupt_fd, &signals, sizeof(signals)) < 0) {
        // EAGAIN: another reader took it; nothing is lost either way
      }
    }
    if (fds[0].revents != 0) TASKQ_RETURN_IF_ERROR(TakeReady(&woken));
    return woken;
  }

 private:
  Status TakeReady(std::vector<std::string>* woken, bool read_socket = true) {
    while (true) {
      auto reply = connection_->ReceiveIfReady(read_socket);
      if (!reply.ok()) return reply.status();
      if (!*reply) return Status::Ok();
      ReplyView v = (*reply)->view();
      if (v.size() == 3 && v[0].str() == "message") {
        auto it = channel_to_queue_.find(std::string(v[1].str()));
        if (it != channel_to_queue_.end()) woken->push_back(it->second);
      }
      // subscribe confirmations and unknown channels are skipped
    }
  }

  std::unique_ptr<RedisConnection> connection_;
  const std::unordered_map<std::string, std::string> channel_to_queue_;
};

}  // namespace

Result<std::unique_ptr<WakeSubscription>> SubscribeWake(const BrokerOptions& options,
                                                        std::span<const std::string> queues) {
  auto endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) return endpoint.status();
  auto connection = RedisConnection::Open(*endpoint);
  if (!connection.ok()) return connection.status();
  std::unordered_map<std::string, std::string> channel_to_queue;
  Command subscribe{"SUBSCRIBE"};
  for (const std::string& queue : queues) {
    std::string channel = QueueKeys(options.key_prefix, queue).wake_channel();
    subscribe.Add(channel);
    channel_to_queue.emplace(channel, queue);
  }
  TASKQ_RETURN_IF_ERROR((*connection)->Send(subscribe));
  // Wait for every confirmation, so no wake published after we return can be missed.
  for (size_t i = 0; i < queues.size(); ++i) {
    auto reply = (*connection)->Receive();
    if (!reply.ok()) return reply.status();
    if (reply->view().is_error()) return Unavailable(std::string(reply->view().str()));
  }
  // Confirmed (under the command timeout, so a frozen Redis cannot hold us here). From now on it
  // is read only when poll() finds it readable (Wait), so no read can block on it.
  return std::unique_ptr<WakeSubscription>(
      new RedisWakeSubscription(std::move(*connection), std::move(channel_to_queue)));
}

}  // namespace taskq::broker
