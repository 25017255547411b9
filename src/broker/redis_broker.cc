// RedisBroker: its connection, script loading and the server check, and OpenBroker.
#include "broker/redis_broker.h"

#include <algorithm>

#include "common/job_codec.h"

namespace taskq::broker {

Status RedisBroker::CheckServer() {
  auto reply = Run(Command{"CONFIG", "GET", "maxmemory-policy"});
  if (!reply.ok()) return reply.status();
  ReplyView v = reply->view();
  // Managed Redis services may refuse CONFIG; then there is nothing to check.
  if (v.is_error() || v.size() != 2) return Status::Ok();
  if (v[1].str() != "noeviction") {
    return Status(StatusCode::kFailedPrecondition,
                  "Redis at " + endpoint_.Describe() + " has maxmemory-policy " +
                      std::string(v[1].str()) +
                      "; taskq needs noeviction, or Redis may silently evict jobs. Run "
                      "`CONFIG SET maxmemory-policy noeviction` (and set it in redis.conf).");
  }
  return Status::Ok();
}

const QueueKeys& RedisBroker::Keys(const std::string& queue) {
  auto it = keys_.find(queue);
  if (it == keys_.end()) it = keys_.emplace(queue, QueueKeys(prefix_, queue)).first;
  return it->second;
}

Status RedisBroker::EnsureConnected() {
  if (connection_ && connection_->CheckUsable()) return Status::Ok();
  connection_.reset();
  auto opened = RedisConnection::Open(endpoint_);
  if (!opened.ok()) return opened.status();
  connection_ = std::move(*opened);
  return Status::Ok();
}

Status RedisBroker::RunCommands(std::span<const Command> commands, std::vector<Reply>* replies) {
  TASKQ_RETURN_IF_ERROR(EnsureConnected());
  return connection_->Pipeline(commands, replies);
}

Result<Reply> RedisBroker::Run(const Command& command) {
  TASKQ_RETURN_IF_ERROR(EnsureConnected());
  return connection_->Run(command);
}

Status RedisBroker::RunScripts(std::span<const Command> commands, std::vector<Reply>* replies) {
  TASKQ_RETURN_IF_ERROR(RunCommands(commands, replies));
  std::vector<size_t> missing;
  for (size_t i = 0; i < replies->size(); ++i) {
    if ((*replies)[i].view().is_error() && (*replies)[i].view().str().starts_with("NOSCRIPT")) {
      missing.push_back(i);
    }
  }
  if (missing.empty()) return Status::Ok();
  TASKQ_RETURN_IF_ERROR(LoadScripts());
  std::vector<Command> again;
  for (size_t i : missing) again.push_back(commands[i]);
  std::vector<Reply> retried;
  TASKQ_RETURN_IF_ERROR(RunCommands(again, &retried));
  for (size_t j = 0; j < missing.size(); ++j) (*replies)[missing[j]] = std::move(retried[j]);
  return Status::Ok();
}

Result<Reply> RedisBroker::RunScript(Command command) {
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScripts(std::span<const Command>(&command, 1), &replies));
  return std::move(replies.front());
}

Result<int64_t> RedisBroker::RunIntScript(Command command, std::string_view what) {
  auto reply = RunScript(std::move(command));
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, what));
  return static_cast<int64_t>(reply->view().AsInt());
}

Status RedisBroker::LoadScripts() {
  std::vector<Command> loads;
  for (const ScriptSource& s : ActiveScripts()) loads.push_back({"SCRIPT", "LOAD", s.body});
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommands(loads, &replies));
  for (size_t i = 0; i < replies.size(); ++i) {
    TASKQ_RETURN_IF_ERROR(ReplyError(replies[i], "SCRIPT LOAD"));
    if (replies[i].view().str() != ActiveScripts()[i].sha1) {
      return Internal("SCRIPT LOAD returned an unexpected SHA1 for " +
                      std::string(ActiveScripts()[i].name));
    }
  }
  return Status::Ok();
}

bool Pings(const std::string& redis_url, std::chrono::milliseconds connect_timeout) {
  auto endpoint = ParseRedisUrl(redis_url);
  if (!endpoint.ok()) return false;
  endpoint->connect_timeout = connect_timeout;
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
