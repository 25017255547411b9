#include "worker/handler_host.h"

#include <gtest/gtest.h>

namespace taskq::worker {
namespace {

TEST(HandlerHostTest, TheVariableNamesSocketWorkerAndMemoryCap) {
  auto settings = ParseHandlerProcessVariable("3:4242:512");
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings->socket_fd, 3);
  EXPECT_EQ(settings->worker_pid, 4242);
  EXPECT_EQ(settings->memory_limit_mb, 512);
  EXPECT_TRUE(ParseHandlerProcessVariable("3:1:0").has_value());
}

TEST(HandlerHostTest, AnyOtherValueIsNotAHandlerProcess) {
  for (const char* value :
       {"", "3", "3:42", "3:42:1:2", "2:42:0", "3:0:0", "3:42:-1", "3:x:0", "3::0", " 3:42:0",
        "3:42:0 ", "3:42:2000000000", "99999999999999999999:1:0"}) {
    EXPECT_FALSE(ParseHandlerProcessVariable(value).has_value()) << value;
  }
}

TEST(HandlerHostTest, ThisTestIsNoHandlerProcess) {
  EXPECT_FALSE(HandlerProcessSettingsOfThisProcess().has_value());
}

}  // namespace
}  // namespace taskq::worker
