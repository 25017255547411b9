#include "broker/sentinel.h"

#include "broker/redis_connection.h"

namespace taskq::broker {

Result<RedisEndpoint> LocateMaster(const RedisEndpoint& endpoint,
                                   std::chrono::milliseconds timeout) {
  std::string failures;
  for (const SentinelAddress& sentinel : endpoint.sentinels) {
    RedisEndpoint at;  // the sentinel itself: no credentials, no database, no sentinels
    at.host = sentinel.host;
    at.port = sentinel.port;
    at.connect_timeout = timeout;
    at.command_timeout = timeout;  // a sentinel answers at once or not at all
    std::string failure;
    auto connection = RedisConnection::Open(at);
    if (connection.ok()) {
      auto reply =
          (*connection)->Run(Command{"SENTINEL", "get-master-addr-by-name", endpoint.master_name});
      if (!reply.ok()) {
        failure = reply.status().message();
      } else if (reply->view().is_error()) {
        failure = std::string(reply->view().str());
      } else if (reply->view().size() != 2) {
        failure = "does not monitor a master named " + endpoint.master_name;
      } else {
        RedisEndpoint master = endpoint;
        master.host = std::string(reply->view()[0].str());
        master.port = static_cast<int>(reply->view()[1].AsInt(0));
        if (master.port > 0 && master.port <= 65535) return master;
        failure = "gave a bad port";
      }
    } else {
      failure = connection.status().message();
    }
    if (!failures.empty()) failures += "; ";
    failures += sentinel.host + ":" + std::to_string(sentinel.port) + ": " + failure;
  }
  return Unavailable("no sentinel located the master " + endpoint.master_name + " (" + failures +
                     ")");
}

}  // namespace taskq::broker
