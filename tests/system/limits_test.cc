// Limits shared by every worker: many real worker processes on one Redis obey a queue's rate and
// concurrency limits together. Start and finish times come from the jobs' records (Redis' clock),
// so the assertions are about what Redis let happen, not about this process' timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "taskq/client.h"
#include "taskq/inspector.h"
#include "testing/redis_server.h"
#include "testing/wait.h"
#include "testing/worker_process.h"

namespace taskq::testing {
namespace {
using std::chrono::milliseconds;

// The most jobs that were at once between their start and their finish (Redis times).
int MostAtOnce(const std::vector<Job>& jobs) {
  std::vector<std::pair<int64_t, int>> edges;  // (time, +1 start / -1 finish)
  for (const Job& job : jobs) {
    edges.push_back({job.started_ms, +1});
    edges.push_back({job.finished_ms, -1});
  }
  std::sort(edges.begin(), edges.end());  // a finish sorts before a start at the same ms
  int running = 0, peak = 0;
  for (const auto& [at, change] : edges) {
    running += change;
    peak = std::max(peak, running);
  }
  return peak;
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RedisServer>();
    client_ = std::move(*Client::Open({server_->url()}));
    inspector_ = std::move(*Inspector::Open({server_->url()}));
  }
  // Enqueues n "sleep" jobs of `ms` each in one bulk call; returns their ids.
  std::vector<std::string> EnqueueSleeps(int n, int ms, const std::string& group = "") {
    std::vector<EnqueueRequest> requests(n);
    for (auto& r : requests) {
      r.type = "sleep";
      r.data_json = "{\"ms\":" + std::to_string(ms) + "}";
      r.options.queue = "q";
      r.options.group = group;
      r.options.keep_completed = {-1, std::chrono::hours(1)};  // every job stays readable
    }
    auto results = client_->EnqueueBulk(requests);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    std::vector<std::string> ids;
    if (results.ok()) {
      for (const auto& r : *results) ids.push_back(r.id);
    }
    return ids;
  }
  bool AllCompleted(int64_t n, std::chrono::seconds limit) {
    return WaitUntil(
        [&] {
          auto counts = inspector_->Counts("q");
          return counts.ok() && counts->completed_total == n;
        },
        limit);
  }
  std::vector<Job> Jobs(const std::vector<std::string>& ids) {
    std::vector<Job> jobs;
    for (const std::string& id : ids) {
      auto job = client_->Get("q", id);
      EXPECT_TRUE(job.ok() && job->has_value()) << id;
      if (job.ok() && job->has_value()) jobs.push_back(**job);
    }
    return jobs;
  }
  std::vector<std::unique_ptr<WorkerProcess>> StartWorkers(int n, const std::string& queues) {
    std::vector<std::unique_ptr<WorkerProcess>> workers;
    for (int i = 0; i < n; ++i) {
      workers.push_back(std::make_unique<WorkerProcess>(server_->url(), queues, 5000, 1000));
    }
    return workers;
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Inspector> inspector_;
};

TEST_F(LimitsTest, TenWorkersTogetherStartAtMostTheRateAndKeepUpWithIt) {
  QueueLimits limits;
  limits.rate = {100, milliseconds(1000)};
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  auto workers = StartWorkers(10, "q=20");
  const int kJobs = 500;
  auto ids = EnqueueSleeps(kJobs, 0);
  ASSERT_TRUE(AllCompleted(kJobs, std::chrono::seconds(30)));
  std::vector<int64_t> starts;
  for (const Job& job : Jobs(ids)) starts.push_back(job.started_ms);
  ASSERT_EQ(starts.size(), static_cast<size_t>(kJobs));
  std::sort(starts.begin(), starts.end());

  // No window of 1 s (anywhere, not only on second boundaries) holds more than 100 starts.
  size_t busiest = 0;
  for (size_t first = 0, last = 0; last < starts.size(); ++last) {
    while (starts[last] - starts[first] >= 1000) ++first;
    busiest = std::max(busiest, last - first + 1);
  }
  EXPECT_LE(busiest, 100u);
  EXPECT_GE(busiest, 95u);  // and the limit is really used

  // Sustained: each whole second from the first start holds at least 95 starts.
  const int64_t t0 = starts.front();
  const int whole_seconds = static_cast<int>((starts.back() - t0) / 1000);
  EXPECT_GE(whole_seconds, 3);  // 500 jobs at 100/s cannot all start within 3 s
  for (int k = 0; k < whole_seconds; ++k) {
    auto in_second = std::count_if(starts.begin(), starts.end(), [&](int64_t t) {
      return t >= t0 + 1000 * k && t < t0 + 1000 * (k + 1);
    });
    EXPECT_GE(in_second, 95) << "second " << k;
  }
}

TEST_F(LimitsTest, ConcurrencyLimitIsNeverExceededByTenWorkers) {
  QueueLimits limits;
  limits.concurrency = 3;
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  auto workers = StartWorkers(10, "q=5");
  const int kJobs = 30;
  auto ids = EnqueueSleeps(kJobs, 100);
  int64_t most_active = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto counts = inspector_->Counts("q");
        if (!counts.ok()) return false;
        most_active = std::max(most_active, counts->active);
        return counts->completed == kJobs;
      },
      std::chrono::seconds(30)));
  EXPECT_LE(most_active, 3);

  // From the records: at no instant were more than 3 jobs between their start and finish.
  EXPECT_EQ(MostAtOnce(Jobs(ids)), 3);  // never above, and the limit was reached
}

// Groups take turns: a small group enqueued behind a big one does not wait for the big one.
TEST_F(LimitsTest, SmallGroupFinishesEarlyBehindABigOne) {
  auto workers = StartWorkers(2, "q=4");
  auto big = EnqueueSleeps(1000, 2, "big");
  auto small = EnqueueSleeps(10, 2, "small");
  ASSERT_TRUE(AllCompleted(1010, std::chrono::seconds(60)));
  int64_t small_done = 0;
  for (const Job& job : Jobs(small)) {
    EXPECT_EQ(job.options.group, "small");
    small_done = std::max(small_done, job.finished_ms);
  }
  std::vector<int64_t> big_done;
  for (const Job& job : Jobs(big)) big_done.push_back(job.finished_ms);
  std::sort(big_done.begin(), big_done.end());
  // Round robin: the 10 small jobs are done while the big group is still near its start (FIFO
  // would finish them after all 1000 big ones).
  const auto big_before =
      std::count_if(big_done.begin(), big_done.end(), [&](int64_t t) { return t < small_done; });
  EXPECT_LT(big_before, 100) << "big jobs finished before the last small one";
}

// A limit per group: each group on its own never has more than 2 active, whatever the workers.
TEST_F(LimitsTest, GroupConcurrencyLimitHoldsForEachGroup) {
  QueueLimits limits;
  limits.group_concurrency = 2;
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  auto workers = StartWorkers(4, "q=5");
  std::vector<std::string> ids;
  for (const char* group : {"a", "b", "c"}) {
    auto some = EnqueueSleeps(12, 50, group);
    ids.insert(ids.end(), some.begin(), some.end());
  }
  ASSERT_TRUE(AllCompleted(36, std::chrono::seconds(30)));
  std::map<std::string, std::vector<Job>> by_group;
  for (Job& job : Jobs(ids)) by_group[job.options.group].push_back(std::move(job));
  ASSERT_EQ(by_group.size(), 3u);
  for (const auto& [group, jobs] : by_group) {
    EXPECT_EQ(MostAtOnce(jobs), 2) << group;  // never above, and reached
  }
}

// Fair priorities: with aging, a low-priority job runs within its bound although better work
// keeps arriving faster than the worker finishes it (without aging it would wait for the stream
// to end).
TEST_F(LimitsTest, AgingRunsALowPriorityJobUnderASteadyStreamOfBetterWork) {
  QueueLimits limits;
  limits.priority_aging = milliseconds(20);
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  auto workers = StartWorkers(1, "q=2");  // about 2 jobs per 5 ms at most
  EnqueueRequest low{"sleep", "{\"ms\":5}", {}};
  low.options.queue = "q";
  low.options.priority = 20;
  auto low_id = client_->Enqueue(low);
  ASSERT_TRUE(low_id.ok());
  // Priority -5 jobs at about 520/s for 3 s: more than the worker can do, so some always wait.
  std::vector<std::string> stream;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < end) {
    std::vector<EnqueueRequest> batch(13, EnqueueRequest{"sleep", "{\"ms\":5}", {}});
    for (auto& r : batch) {
      r.options.queue = "q";
      r.options.priority = -5;
      r.options.keep_completed = {-1, std::chrono::hours(1)};
    }
    auto ids = client_->EnqueueBulk(batch);
    ASSERT_TRUE(ids.ok());
    for (const auto& r : *ids) stream.push_back(r.id);
    std::this_thread::sleep_for(milliseconds(25));
  }
  auto job = client_->Get("q", low_id->id);
  ASSERT_TRUE(job.ok() && job->has_value());
  ASSERT_NE((*job)->started_ms, 0) << "the low-priority job has not run within the stream";
  // It ran 25 steps of 20 ms (priority 20 to -5) plus the backlog queued before them after it
  // was queued: before the stream ended (the last better job was queued after it ran), and
  // better work was still waiting when it ran. (No bound in ms: the backlog depends on how fast
  // this machine, or a sanitizer build, runs the worker.)
  std::vector<Job> better = Jobs(stream);
  ASSERT_FALSE(better.empty());
  EXPECT_GT(better.back().created_ms, (*job)->started_ms);
  int64_t still_waiting = 0;
  for (const Job& high : better) {
    if (high.created_ms < (*job)->started_ms &&
        (high.started_ms == 0 || high.started_ms > (*job)->started_ms)) {
      ++still_waiting;
    }
  }
  EXPECT_GT(still_waiting, 0);
}

}  // namespace
}  // namespace taskq::testing
