// Where and how to reach Redis, parsed from a URL:
//   redis://[[user]:password@]host[:port][/db]      unix:///path/to/redis.sock[?db=N]
#pragma once

#include <chrono>
#include <string>

#include "taskq/status.h"

namespace taskq::broker {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_socket;  // used instead of host:port when set
  std::string user;         // ACL user; empty means "default"
  std::string password;
  int db = 0;
  std::chrono::milliseconds connect_timeout{2000};
  // A reply that takes longer than this breaks the connection (it is then re-opened).
  std::chrono::milliseconds command_timeout{10000};

  // The URL with the password masked, for logs and `taskq config`.
  std::string Describe() const;
};

Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace taskq::broker
