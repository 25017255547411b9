#include "broker/sentinel.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include "broker/redis_connection.h"

namespace taskq::broker {
namespace {

using Clock = std::chrono::steady_clock;

struct SharedAnswer {
  std::optional<RedisEndpoint> master;  // the last answer (with its sentinels in asking order)
  Clock::time_point when;
  bool asking = false;
};

std::mutex shared_mu;
std::map<std::string, SharedAnswer>& SharedAnswers() {
  static auto* answers = new std::map<std::string, SharedAnswer>();  // never destroyed: no exit
  return *answers;                                                   // order to get wrong
}

}  // namespace

Result<RedisEndpoint> LocateMaster(const RedisEndpoint& endpoint,
                                   std::chrono::milliseconds timeout) {
  std::string failures;
  for (size_t i = 0; i < endpoint.sentinels.size(); ++i) {
    const SentinelAddress& sentinel = endpoint.sentinels[i];
    RedisEndpoint at;  // the sentinel itself: its own credentials, no database, no sentinels
    at.host = sentinel.host;
    at.port = sentinel.port;
    at.user = endpoint.sentinel_user;
    at.password = endpoint.sentinel_password;
    at.tls = endpoint.tls;
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
        if (master.port > 0 && master.port <= 65535) {
          // The sentinel that answered goes first next time (the Sentinel clients' guideline):
          // one that is down is then not waited for again and again.
          std::rotate(master.sentinels.begin(), master.sentinels.begin() + i,
                      master.sentinels.begin() + i + 1);
          return master;
        }
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

Result<RedisEndpoint> SharedLocateMaster(const RedisEndpoint& endpoint,
                                         std::chrono::milliseconds max_age,
                                         std::chrono::milliseconds timeout) {
  const std::string key = endpoint.Describe();
  RedisEndpoint ask = endpoint;
  {
    std::lock_guard lock(shared_mu);
    SharedAnswer& shared = SharedAnswers()[key];
    if (max_age.count() > 0 && shared.master &&
        (Clock::now() - shared.when < max_age || shared.asking)) {
      RedisEndpoint master = *shared.master;
      master.user = endpoint.user;  // the key leaves the password out: keep the caller's
      master.password = endpoint.password;
      return master;
    }
    shared.asking = true;
    if (shared.master) ask.sentinels = shared.master->sentinels;  // the last answerer first
  }
  auto master = LocateMaster(ask, timeout);
  std::lock_guard lock(shared_mu);
  SharedAnswer& shared = SharedAnswers()[key];
  shared.asking = false;
  if (master.ok()) {
    shared.master = *master;
    shared.when = Clock::now();
  }
  return master;
}

}  // namespace taskq::broker
