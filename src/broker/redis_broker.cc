// RedisBroker: its connection, script loading and the server check, and OpenBroker.
#include "broker/redis_broker.h"

#include <algorithm>

#include "common/job_codec.h"

namespace taskq::broker {

namespace {

// What CONFIG GET maxmemory-policy answered, as the check's verdict.
Status CheckEvictionPolicy(const Reply& reply, const std::string& where) {
  ReplyView v = reply.view();
  // Managed Redis services may refuse CONFIG; then there is nothing to check.
  if (v.is_error() || v.size() != 2) return Status::Ok();
  if (v[1].str() != "noeviction") {
    return Status(StatusCode::kFailedPrecondition,
                  "Redis at " + where + " has maxmemory-policy " + std::string(v[1].str()) +
                      "; taskq needs noeviction, or Redis may silently evict jobs. Run "
                      "`CONFIG SET maxmemory-policy noeviction` (and set it in redis.conf).");
  }
  return Status::Ok();
}

}  // namespace

Status RedisBroker::CheckServer() {
  const Command get{"CONFIG", "GET", "maxmemory-policy"};
  if (!endpoint_.via_cluster()) {
    auto reply = Run(0, get);
    if (!reply.ok()) return reply.status();
    return CheckEvictionPolicy(*reply, endpoint_.Describe());
  }
  // Every master holds jobs: each must keep them.
  TASKQ_RETURN_IF_ERROR(EnsureConnected());
  std::vector<std::vector<Reply>> replies;
  TASKQ_RETURN_IF_ERROR(cluster_->OnEveryMaster(std::span<const Command>(&get, 1), &replies));
  for (size_t m = 0; m < replies.size(); ++m) {
    TASKQ_RETURN_IF_ERROR(
        CheckEvictionPolicy(replies[m].front(), cluster_->map().masters()[m].address()));
  }
  return Status::Ok();
}

const QueueKeys& RedisBroker::Keys(const std::string& queue) {
  auto it = keys_.find(queue);
  if (it == keys_.end()) it = keys_.emplace(queue, QueueKeys(prefix_, queue)).first;
  return it->second;
}

Status RedisBroker::EnsureConnected() {
  if (endpoint_.via_cluster()) {
    if (cluster_) return Status::Ok();  // it re-opens node connections itself
    auto opened = ClusterConnection::Open(endpoint_, endpoint_.cluster_seeds);
    if (!opened.ok()) return opened.status();
    cluster_ = std::move(*opened);
    return Status::Ok();
  }
  if (connection_ && connection_->CheckUsable()) return Status::Ok();
  connection_.reset();
  auto opened = RedisConnection::Open(endpoint_);
  if (!opened.ok()) return opened.status();
  connection_ = std::move(*opened);
  return Status::Ok();
}

Status RedisBroker::RunCommands(uint16_t slot, std::span<const Command> commands,
                                std::vector<Reply>* replies) {
  TASKQ_RETURN_IF_ERROR(EnsureConnected());
  if (cluster_) return cluster_->Pipeline(slot, commands, replies);
  return connection_->Pipeline(commands, replies);
}

Status RedisBroker::RunCommandsAcross(std::span<const uint16_t> slots,
                                      std::span<const Command> commands,
                                      std::vector<Reply>* replies) {
  TASKQ_RETURN_IF_ERROR(EnsureConnected());
  if (cluster_) return cluster_->PipelineAcross(slots, commands, replies);
  return connection_->Pipeline(commands, replies);
}

void RedisBroker::RunCommandsAcrossEach(std::span<const uint16_t> slots,
                                        std::span<const Command> commands,
                                        std::vector<Result<Reply>>* replies) {
  replies->clear();
  Status status = EnsureConnected();
  if (status.ok() && cluster_) return cluster_->PipelineAcrossEach(slots, commands, replies);
  std::vector<Reply> all;
  if (status.ok()) status = connection_->Pipeline(commands, &all);
  for (size_t i = 0; i < commands.size(); ++i) {
    if (status.ok()) {
      replies->push_back(std::move(all[i]));
    } else {
      replies->push_back(status);
    }
  }
}

Result<Reply> RedisBroker::Run(uint16_t slot, const Command& command) {
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommands(slot, std::span<const Command>(&command, 1), &replies));
  return std::move(replies.front());
}

std::vector<size_t> NoScriptCalls(const std::vector<Reply>& replies) {
  std::vector<size_t> missing;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].view().is_error() && replies[i].view().str().starts_with("NOSCRIPT")) {
      missing.push_back(i);
    }
  }
  return missing;
}

Status RedisBroker::RunScripts(uint16_t slot, std::span<const Command> commands,
                               std::vector<Reply>* replies) {
  TASKQ_RETURN_IF_ERROR(RunCommands(slot, commands, replies));
  const std::vector<size_t> missing = NoScriptCalls(*replies);
  if (missing.empty()) return Status::Ok();
  TASKQ_RETURN_IF_ERROR(LoadScripts());
  std::vector<Command> again;
  for (size_t i : missing) again.push_back(commands[i]);
  std::vector<Reply> retried;
  TASKQ_RETURN_IF_ERROR(RunCommands(slot, again, &retried));
  for (size_t j = 0; j < missing.size(); ++j) (*replies)[missing[j]] = std::move(retried[j]);
  return Status::Ok();
}

Result<Reply> RedisBroker::RunScript(uint16_t slot, Command command) {
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScripts(slot, std::span<const Command>(&command, 1), &replies));
  return std::move(replies.front());
}

Result<int64_t> RedisBroker::RunIntScript(uint16_t slot, Command command, std::string_view what) {
  auto reply = RunScript(slot, std::move(command));
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, what));
  return static_cast<int64_t>(reply->view().AsInt());
}

Status RedisBroker::LoadScripts() {
  std::vector<Command> loads;
  for (const ScriptSource& s : ActiveScripts()) loads.push_back({"SCRIPT", "LOAD", s.body});
  std::vector<std::vector<Reply>> per_node(1);
  if (cluster_) {
    TASKQ_RETURN_IF_ERROR(cluster_->OnEveryMaster(loads, &per_node));
  } else {
    TASKQ_RETURN_IF_ERROR(RunCommands(0, loads, &per_node.front()));
  }
  for (const std::vector<Reply>& replies : per_node) {
    for (size_t i = 0; i < replies.size(); ++i) {
      TASKQ_RETURN_IF_ERROR(ReplyError(replies[i], "SCRIPT LOAD"));
      if (replies[i].view().str() != ActiveScripts()[i].sha1) {
        return Internal("SCRIPT LOAD returned an unexpected SHA1 for " +
                        std::string(ActiveScripts()[i].name));
      }
    }
  }
  return Status::Ok();
}

bool Pings(const std::string& redis_url, std::chrono::milliseconds connect_timeout) {
  auto endpoint = ParseRedisUrl(redis_url);
  if (!endpoint.ok()) return false;
  endpoint->connect_timeout = connect_timeout;
  if (endpoint->via_cluster()) {  // a node answered with the slot map
    return ClusterConnection::Open(*endpoint, endpoint->cluster_seeds).ok();
  }
  auto connection = RedisConnection::Open(*endpoint);
  if (!connection.ok()) return false;
  auto pong = (*connection)->Run(Command{"PING"});
  return pong.ok() && pong->view().str() == "PONG";
}

Result<std::unique_ptr<Broker>> OpenBroker(const BrokerOptions& options) {
  auto endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) return endpoint.status();
  TASKQ_RETURN_IF_ERROR(ValidateName("key_prefix", options.key_prefix));
  if (options.reply_timeout.count() > 0) {
    endpoint->connect_timeout = std::min(endpoint->connect_timeout, options.reply_timeout);
    endpoint->command_timeout = std::min(endpoint->command_timeout, options.reply_timeout);
  }
  return std::unique_ptr<Broker>(new RedisBroker(*endpoint, options.key_prefix));
}

}  // namespace taskq::broker
