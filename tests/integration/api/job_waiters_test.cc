// JobWaiters against a real redis-server: events written to a queue's stream (as the scripts
// write them: e, n, ids) wake the waiters they name, and only those.
#include "api/job_waiters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "testing/redis_server.h"
#include "testing/wait.h"

namespace taskq::api {
namespace {

using std::chrono::milliseconds;

class JobWaitersTest : public ::testing::Test {
 protected:
  void Event(const std::string& queue, const std::string& kind, int n, const std::string& ids) {
    auto connection = server_.Connect();
    ASSERT_TRUE(connection
                    ->Run(broker::Command{"XADD", "taskq:{" + queue + "}:events", "*", "e", kind,
                                          "n", std::to_string(n), "ids", ids})
                    .ok());
  }
  // Writes the event every 20 ms until `woken` (the reader may start after the first one).
  bool EventUntil(const std::atomic<bool>& woken, const std::string& queue, int n,
                  const std::string& ids) {
    return testing::WaitUntil(
        [&] {
          if (!woken) Event(queue, "completed", n, ids);
          std::this_thread::sleep_for(milliseconds(20));
          return woken.load();
        },
        std::chrono::seconds(10));
  }

  testing::RedisServer server_;
  JobWaiters waiters_{InspectorOptions{server_.url(), "taskq"}, milliseconds(100)};
};

TEST_F(JobWaitersTest, AnEventWakesTheWaitersItNamesOnceAndNoOthers) {
  std::atomic<bool> a{false}, b{false}, other_queue{false};
  std::atomic<int> a_wakes{0};
  waiters_.Add("q", "a", [&] {
    ++a_wakes;
    a = true;
  });
  waiters_.Add("q", "b", [&] { b = true; });
  waiters_.Add("other", "a", [&] { other_queue = true; });
  ASSERT_TRUE(EventUntil(a, "q", 2, "x,a"));
  std::this_thread::sleep_for(milliseconds(300));  // further events naming "a" wake no one
  EXPECT_EQ(a_wakes.load(), 1);
  EXPECT_FALSE(b);
  EXPECT_FALSE(other_queue);  // the same id in another queue is another job
  EXPECT_EQ(waiters_.waiting(), 2u);
  // An event that lists only the first of its ids wakes every waiter of its queue.
  ASSERT_TRUE(EventUntil(b, "q", 150, "x,y"));
  EXPECT_FALSE(other_queue);
  EXPECT_EQ(waiters_.waiting(), 1u);
}

TEST_F(JobWaitersTest, ARemovedWaiterIsNotWokenAndQueueEventsWakeNoOne) {
  std::atomic<bool> removed{false}, kept{false};
  const int64_t ticket = waiters_.Add("q", "gone", [&] { removed = true; });
  waiters_.Add("q", "kept", [&] { kept = true; });
  waiters_.Remove(ticket);
  Event("q", "paused", 0, "");
  ASSERT_TRUE(EventUntil(kept, "q", 2, "gone,kept"));
  EXPECT_FALSE(removed);
  EXPECT_EQ(waiters_.waiting(), 0u);
}

}  // namespace
}  // namespace taskq::api
