#include "api/request_origin.h"

#include <gtest/gtest.h>

namespace taskq::api {
namespace {

TEST(IsLoopbackHostTest, AcceptsOnlyLoopbackNames) {
  for (const char* host :
       {"localhost", "localhost:8000", "127.0.0.1", "127.1.2.3:3000", "[::1]", "[::1]:8000"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"", "evil.example", "127.0.0.1.evil.example", "localhost.evil", "[::2]",
                           "0.0.0.0", "127.0.0", "10.0.0.1:8000"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(IsAllowedHostTest, AddsTheConfiguredNamesWithoutCaseOrPort) {
  const std::vector<std::string> allowed = {"queue.internal", "10.0.0.5", "[fd00::5]"};
  for (const char* host : {"localhost:1", "queue.internal", "QUEUE.Internal:8000", "10.0.0.5:80",
                           "[fd00::5]:3000", "[FD00::5]"}) {
    EXPECT_TRUE(IsAllowedHost(host, allowed)) << host;
  }
  for (const char* host : {"", ":8000", "queue.internal.evil", "evil.queue.internal", "10.0.0.50",
                           "[fd00::5", "queue", "internal"}) {
    EXPECT_FALSE(IsAllowedHost(host, allowed)) << host;
  }
  EXPECT_FALSE(IsAllowedHost("queue.internal", {}));
}

}  // namespace
}  // namespace taskq::api
