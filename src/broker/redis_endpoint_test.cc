#include "broker/redis_endpoint.h"

#include <gtest/gtest.h>

namespace taskq::broker {
namespace {

TEST(RedisEndpointTest, ParsesUserPasswordHostPortDb) {
  auto e = ParseRedisUrl("redis://app:s%40cret@redis.internal:6380/3");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->user, "app");
  EXPECT_EQ(e->password, "s@cret");
  EXPECT_EQ(e->host, "redis.internal");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 3);
  EXPECT_EQ(e->Describe(), "redis://app:***@redis.internal:6380/3");
}

TEST(RedisEndpointTest, PasswordOnlyIpv6AndUnix) {
  auto p = ParseRedisUrl("redis://:pw@localhost");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->user, "");
  EXPECT_EQ(p->password, "pw");
  EXPECT_EQ(p->port, 6379);
  auto v6 = ParseRedisUrl("redis://[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
  auto u = ParseRedisUrl("unix:///run/redis.sock?db=2");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->unix_socket, "/run/redis.sock");
  EXPECT_EQ(u->db, 2);
}

TEST(RedisEndpointTest, ParsesSentinelUrls) {
  auto e = ParseRedisUrl("redis+sentinel://:pw@s1,s2:26380,[::1]:5000/my%2Fmaster/2");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->via_sentinel());
  EXPECT_EQ(e->master_name, "my/master");
  EXPECT_EQ(e->password, "pw");
  EXPECT_EQ(e->db, 2);
  ASSERT_EQ(e->sentinels.size(), 3u);
  EXPECT_EQ(e->sentinels[0].host, "s1");
  EXPECT_EQ(e->sentinels[0].port, 26379);  // Sentinel's default port
  EXPECT_EQ(e->sentinels[1].host, "s2");
  EXPECT_EQ(e->sentinels[1].port, 26380);
  EXPECT_EQ(e->sentinels[2].host, "::1");
  EXPECT_EQ(e->sentinels[2].port, 5000);
  EXPECT_EQ(e->Describe(), "redis+sentinel://:***@s1:26379,s2:26380,[::1]:5000/my%2Fmaster/2");
  auto one = ParseRedisUrl("redis+sentinel://localhost/mymaster");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->db, 0);
  EXPECT_EQ(one->sentinels.size(), 1u);
  EXPECT_FALSE(ParseRedisUrl("redis://localhost/0")->via_sentinel());
  for (const char* bad :
       {"redis+sentinel://h", "redis+sentinel://h/", "redis+sentinel://h,/m",
        "redis+sentinel://,h/m", "redis+sentinel://h:0/m", "redis+sentinel://h:x/m",
        "redis+sentinel://h/m/x", "redis+sentinel://:26379/m", "redis+sentinel://h/m?x=1"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
}

TEST(RedisEndpointTest, ParsesClusterUrls) {
  auto e = ParseRedisUrl("redis+cluster://app:pw@n1,n2:7001,[::1]:7002/?wait_replicas=1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->via_cluster());
  EXPECT_FALSE(e->via_sentinel());
  EXPECT_EQ(e->user, "app");
  EXPECT_EQ(e->password, "pw");
  ASSERT_EQ(e->cluster_seeds.size(), 3u);
  EXPECT_EQ(e->cluster_seeds[0].host, "n1");
  EXPECT_EQ(e->cluster_seeds[0].port, 6379);  // Redis' default port
  EXPECT_EQ(e->cluster_seeds[1].port, 7001);
  EXPECT_EQ(e->cluster_seeds[2].host, "::1");
  EXPECT_EQ(e->host, "n1");  // a plain connection reaches the first seed
  EXPECT_EQ(e->wait_replicas, 1);
  EXPECT_EQ(e->Describe(),
            "redis+cluster://app:***@n1:6379,n2:7001,[::1]:7002/"
            "?wait_replicas=1&wait_timeout_ms=1000");
  auto tls = ParseRedisUrl("rediss+cluster://n1:7000/0?tls_ca=/ca.pem");
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  EXPECT_TRUE(tls->tls.enabled);
  EXPECT_EQ(tls->Describe(), "rediss+cluster://n1:7000/?tls_ca=/ca.pem");
  EXPECT_FALSE(ParseRedisUrl("redis://localhost/0")->via_cluster());
  for (const char* bad :
       {"redis+cluster://", "redis+cluster://h,", "redis+cluster://,h", "redis+cluster://h:0",
        "redis+cluster://h/1", "redis+cluster://h/x", "redis+cluster://:7000",
        "redis+cluster://h?x=1", "redis+cluster://h?sentinel_password=p"}) {
    auto parsed = ParseRedisUrl(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (std::string_view(bad) == "redis+cluster://h/1") {
      EXPECT_NE(parsed.status().message().find("only database 0"), std::string::npos);
    }
  }
}

TEST(RedisEndpointTest, ParsesWaitForReplicas) {
  auto e = ParseRedisUrl("redis://:p%3Fw@h:7000/1?wait_replicas=2&wait_timeout_ms=250");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->password, "p?w");
  EXPECT_EQ(e->db, 1);
  EXPECT_EQ(e->wait_replicas, 2);
  EXPECT_EQ(e->wait_timeout.count(), 250);
  EXPECT_EQ(e->Describe(), "redis://:***@h:7000/1?wait_replicas=2&wait_timeout_ms=250");
  auto s = ParseRedisUrl("redis+sentinel://s1,s2/mymaster?wait_replicas=1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->wait_replicas, 1);
  EXPECT_EQ(s->wait_timeout.count(), 1000);  // the default
  EXPECT_EQ(s->sentinels.size(), 2u);
  EXPECT_EQ(s->master_name, "mymaster");
  EXPECT_EQ(ParseRedisUrl("redis://h")->wait_replicas, 0);
  for (const char* bad :
       {"redis://h?wait_replicas=17", "redis://h?wait_replicas=x", "redis://h?wait_timeout_ms=0",
        "redis://h?wait_timeout_ms=60000", "redis://h?timeout=5", "redis://h?wait_replicas"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
}

TEST(RedisEndpointTest, ParsesTlsSettings) {
  auto e = ParseRedisUrl(
      "rediss://:pw@redis.internal:6380/2?tls_ca=/etc/ssl/ca%20file.pem&tls_cert=/c.pem&"
      "tls_key=/k.pem&tls_server_name=redis.example.com");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->tls.enabled);
  EXPECT_EQ(e->tls.ca_file, "/etc/ssl/ca file.pem");
  EXPECT_EQ(e->tls.cert_file, "/c.pem");
  EXPECT_EQ(e->tls.key_file, "/k.pem");
  EXPECT_EQ(e->tls.server_name, "redis.example.com");
  EXPECT_FALSE(e->tls.insecure);
  EXPECT_EQ(e->Describe(),
            "rediss://:***@redis.internal:6380/2?tls_ca=/etc/ssl/ca%20file.pem&tls_cert=/c.pem&"
            "tls_key=/k.pem&tls_server_name=redis.example.com");
  auto again = ParseRedisUrl(e->Describe());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->tls, e->tls);
  auto plain = ParseRedisUrl("rediss://h?tls_insecure=true");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->tls.insecure);
  EXPECT_TRUE(plain->tls.ca_file.empty());
  EXPECT_FALSE(ParseRedisUrl("redis://h")->tls.enabled);
  auto sentinel = ParseRedisUrl("rediss+sentinel://s1,s2/m?tls_ca=/ca.pem");
  ASSERT_TRUE(sentinel.ok()) << sentinel.status().ToString();
  EXPECT_TRUE(sentinel->tls.enabled);
  EXPECT_EQ(sentinel->Describe(), "rediss+sentinel://s1:26379,s2:26379/m/0?tls_ca=/ca.pem");
  for (const char* bad :
       {"redis://h?tls_ca=/ca.pem", "redis://h?tls_insecure=false", "rediss://h?tls_cert=/c.pem",
        "rediss://h?tls_key=/k.pem", "rediss://h?tls_insecure=yes", "rediss://h?tls_ca=",
        "rediss://h?tls_ca=/a&tls_ca=/b", "rediss:/h", "redisss://h", "rediss+clusters://h"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
}

TEST(RedisEndpointTest, ParsesTheSentinelsOwnCredentials) {
  auto e =
      ParseRedisUrl("redis+sentinel://:master-pw@s1/m?sentinel_user=watch&sentinel_password=s%26p");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->password, "master-pw");
  EXPECT_EQ(e->sentinel_user, "watch");
  EXPECT_EQ(e->sentinel_password, "s&p");
  EXPECT_EQ(e->Describe(),
            "redis+sentinel://:***@s1:26379/m/0?sentinel_user=watch&sentinel_password=***");
  // A raw '@' or '?' in a parameter's value is the value's, not the end of the credentials.
  auto raw = ParseRedisUrl("redis+sentinel://:pw@s1/m?sentinel_password=pa@h2/x?y");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->password, "pw");
  EXPECT_EQ(raw->sentinel_password, "pa@h2/x?y");
  ASSERT_EQ(raw->sentinels.size(), 1u);
  EXPECT_EQ(raw->sentinels[0].host, "s1");
  auto path = ParseRedisUrl("rediss://h/0?tls_ca=/run/x@y/ca.pem");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(path->tls.ca_file, "/run/x@y/ca.pem");
  EXPECT_EQ(path->host, "h");
  for (const char* bad :
       {"redis://h?sentinel_password=x", "redis+sentinel://s/m?sentinel_user=u"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
}

TEST(RedisEndpointTest, RejectsMalformedUrls) {
  for (const char* bad :
       {"http://x", "redis://h:0", "redis://h:99999", "redis://h:x", "redis://h/-1",
        "redis://h/0#frag", "unix://relative", "redis://[::1", "redis://:%zz@h", "redis://h h",
        "redis+sentinel://s\x01,s2/m", "unix:///run/r\n.sock", "redis://h\x7f:1",
        "redis://:[1:A]:1/15", "redis://[x]:1", "redis://[]:1", "redis://h/o:1"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
  // A control character in a host would reach logs and DNS as it is (found by fuzzing).
  EXPECT_FALSE(ParseRedisUrl(std::string_view("redis+sentinel://\0D:p:2\b[:]:26380/m", 35)).ok());
}

}  // namespace
}  // namespace taskq::broker
