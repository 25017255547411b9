#include "api/backend_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>

namespace taskq::api {
namespace {

// A task that throws (a bug, or std::bad_alloc) used to end the whole API process: an uncaught
// exception on a pool thread calls std::terminate.
TEST(BackendPoolTest, ATaskThatThrowsLeavesThePoolServing) {
  ClientOptions options;
  options.redis_url = "redis://127.0.0.1:1";  // never contacted: connections open lazily
  auto pool = BackendPool::Open(options, 1);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  (*pool)->Post([](Backend&) { throw std::runtime_error("a bug in a route"); });
  (*pool)->Post([](Backend&) { throw 42; });
  std::promise<void> ran;
  (*pool)->Post([&ran](Backend&) { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  (*pool)->Stop();
}

}  // namespace
}  // namespace taskq::api
