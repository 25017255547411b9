// Where and how to reach Redis, parsed from a URL:
//   redis://[[user]:password@]host[:port][/db]      unix:///path/to/redis.sock[?db=N]
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master_name[/db]
// With Sentinel, the hosts are sentinels (port 26379 by default) and the master is looked up by
// name at every connect (sentinel.h); user and password are the master's, and the sentinels'
// own are ?sentinel_user=U&sentinel_password=P.
// rediss:// and rediss+sentinel:// speak TLS (to the sentinels and the master alike), the
// server's certificate verified against ?tls_ca=FILE (else the system's CAs) and its name (the
// host, or ?tls_server_name=NAME); ?tls_cert=FILE&tls_key=FILE present a client certificate;
// ?tls_insecure=true skips the verification (for tests only: it lets anyone in the middle read
// everything, the password included).
//   redis+cluster://[[user]:password@]host[:port][,host[:port]...][/]
// With Cluster, the hosts are seeds: any nodes of the cluster, from which the slot map is read
// (cluster_connection.h); every node takes the same credentials and TLS settings, and the
// database is 0, the only one a cluster has. rediss+cluster:// speaks TLS to every node.
// Every form takes ?wait_replicas=N[&wait_timeout_ms=T]: an enqueue is acknowledged only once N
// replicas have it (Redis' WAIT), so a failover cannot lose an acknowledged job.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "taskq/status.h"

namespace taskq::broker {

struct SentinelAddress {
  std::string host;
  int port = 26379;
};

// A node of a Redis Cluster named in the URL.
struct ClusterSeed {
  std::string host;
  int port = 6379;
};

// TLS settings of a rediss:// endpoint.
struct RedisTls {
  bool enabled = false;
  std::string ca_file;      // PEM CA certificates to verify the server with; empty: the system's
  std::string cert_file;    // PEM client certificate (chain), with key_file
  std::string key_file;     // PEM private key of cert_file
  std::string server_name;  // the name the certificate must carry; empty: the host
  bool insecure = false;    // no verification of the server's certificate at all

  bool operator==(const RedisTls&) const = default;
};

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

  // Replicas that must have an enqueue before it is acknowledged, and how long to wait for them.
  int wait_replicas = 0;
  std::chrono::milliseconds wait_timeout{1000};
  // Sentinel: when master_name is set, host and port are those of the master last located.
  std::vector<SentinelAddress> sentinels;
  std::string master_name;
  std::string sentinel_user;  // the sentinels' own credentials (ACL), when they require them
  std::string sentinel_password;
  RedisTls tls;
  // Cluster: the seeds (host and port are the first one's).
  std::vector<ClusterSeed> cluster_seeds;

  bool via_sentinel() const { return !master_name.empty(); }
  bool via_cluster() const { return !cluster_seeds.empty(); }
  // The URL with the password masked, for logs and `taskq config`.
  std::string Describe() const;

 private:
  std::string QuerySuffix() const;  // "?wait_replicas=...&tls_ca=..." when any is set
};

Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

// Where the query of a redis:// or rediss:// URL starts (its '?'); npos when it has none.
size_t RedisUrlQueryStart(std::string_view url);

}  // namespace taskq::broker
