#include "dashboard/login_throttle.h"

#include <gtest/gtest.h>

namespace taskq::dashboard {
namespace {

using std::chrono::seconds;

TEST(LoginThrottleTest, OneCheckInFlightPerClient) {
  LoginThrottle throttle;
  const auto now = LoginThrottle::Clock::now();
  EXPECT_FALSE(throttle.Begin("10.0.0.1", now));
  EXPECT_EQ(throttle.Begin("10.0.0.1", now), seconds(1));  // its first check still runs
  EXPECT_FALSE(throttle.Begin("10.0.0.2", now));           // others are not held up
  throttle.Finish("10.0.0.1", false, now);
  EXPECT_FALSE(throttle.Begin("10.0.0.1", now));
}

TEST(LoginThrottleTest, FailuresInARowBackOffAndASuccessClearsThem) {
  LoginThrottle throttle;
  auto now = LoginThrottle::Clock::now();
  for (int i = 0; i < LoginThrottle::kFreeFailures; ++i) {
    ASSERT_FALSE(throttle.Begin("attacker", now)) << i;
    throttle.Finish("attacker", false, now);
  }
  EXPECT_EQ(throttle.Begin("attacker", now), seconds(1));
  now += seconds(1);
  ASSERT_FALSE(throttle.Begin("attacker", now));
  throttle.Finish("attacker", false, now);
  EXPECT_EQ(throttle.Begin("attacker", now), seconds(2));  // doubling
  for (int i = 0; i < 20; ++i) {
    now += seconds(61);
    ASSERT_FALSE(throttle.Begin("attacker", now));
    throttle.Finish("attacker", false, now);
  }
  EXPECT_EQ(throttle.Begin("attacker", now), LoginThrottle::kMaxWait);  // capped
  // The admin, from another address, signs in at once all along.
  EXPECT_FALSE(throttle.Begin("admin", now));
  throttle.Finish("admin", true, now);
  // A success clears a client's failures.
  now += seconds(61);
  ASSERT_FALSE(throttle.Begin("attacker", now));
  throttle.Finish("attacker", true, now);
  ASSERT_FALSE(throttle.Begin("attacker", now));
  throttle.Finish("attacker", false, now);
  EXPECT_FALSE(throttle.Begin("attacker", now));
}

TEST(LoginThrottleTest, ManyClientsStayBounded) {
  LoginThrottle throttle;
  const auto now = LoginThrottle::Clock::now();
  for (size_t i = 0; i < LoginThrottle::kMaxClients + 100; ++i) {
    const std::string client = "c" + std::to_string(i);
    ASSERT_FALSE(throttle.Begin(client, now));
    throttle.Finish(client, false, now);
  }
  EXPECT_FALSE(throttle.Begin("newcomer", now));
}

}  // namespace
}  // namespace taskq::dashboard
