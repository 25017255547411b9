// Three real `taskq scheduler` processes on one Redis: every fire time of a per-second schedule
// gets exactly one job, and when the leader is killed with SIGKILL another takes over within
// about one lease, with no fire time missed or enqueued twice.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <map>

#include "taskq/inspector.h"
#include "testing/child_process.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace taskq::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kLeaseMs = 1000;
constexpr const char* kSchedule =
    R"({"id":"tick","cron":"* * * * * *","type":"tick","queue":"ticks"})";

// `taskq scheduler` with a per-second schedule and a short lease.
ChildProcess StartScheduler(const std::string& url) {
  return ChildProcess({TASKQ_BINARY, "--redis-url", url, "--log-level", "warn", "scheduler",
                       "--scheduler-tick-ms", "200", "--scheduler-lease-ms",
                       std::to_string(kLeaseMs), "--schedule", kSchedule});
}

class SchedulerProcessesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RedisServer>();
    inspector_ = std::move(*Inspector::Open({server_->url()}));
  }
  // The pid in the lease holder's token "host:pid:random"; 0 when nobody holds it.
  pid_t LeaderPid() {
    auto reply = server_->Run({"GET", "taskq:{:schedules}:leader"});
    if (reply.view().is_nil()) return 0;
    std::string token(reply.view().str());
    size_t a = token.find(':'), b = token.find(':', a + 1);
    return static_cast<pid_t>(std::stol(token.substr(a + 1, b - a - 1)));
  }
  // Fire times of the jobs enqueued so far, in queue order, and how often each appears.
  std::vector<int64_t> FireTimes() {
    auto jobs = inspector_->List("ticks", JobState::kWaiting, 0, 1000);
    std::vector<int64_t> out;
    if (!jobs.ok()) return out;
    for (const Job& job : *jobs) {
      EXPECT_EQ(job.id, "s:tick:" + std::to_string(job.options.schedule_fire_ms));
      out.push_back(job.options.schedule_fire_ms);
    }
    return out;
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<Inspector> inspector_;
};

TEST_F(SchedulerProcessesTest, EachFireTimeOnceAcrossThreeSchedulersAndAKilledLeader) {
  std::map<pid_t, ChildProcess> processes;
  for (int i = 0; i < 3; ++i) {
    ChildProcess p = StartScheduler(server_->url());
    processes[p.pid()] = std::move(p);
  }
  ASSERT_TRUE(WaitUntil([&] { return FireTimes().size() >= 4; }, milliseconds(20000)));
  const pid_t first_leader = LeaderPid();
  ASSERT_TRUE(processes.contains(first_leader)) << first_leader;
  processes[first_leader].Kill(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  const size_t before_kill = FireTimes().size();

  // Another process takes the lease once the dead one's expires.
  pid_t second_leader = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        second_leader = LeaderPid();
        return second_leader != 0 && second_leader != first_leader;
      },
      milliseconds(10000)));
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, milliseconds(3 * kLeaseMs));
  EXPECT_TRUE(processes.contains(second_leader));
  ASSERT_TRUE(
      WaitUntil([&] { return FireTimes().size() >= before_kill + 4; }, milliseconds(20000)));
  for (auto& [pid, p] : processes) {
    if (pid == first_leader) continue;
    const int status = p.Kill(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  const std::vector<int64_t> fires = FireTimes();
  ASSERT_GE(fires.size(), before_kill + 4);
  // One job per whole second from the first to the last: none missed across the takeover, none
  // enqueued twice (equal fire times would share an id, and the count would fall short).
  for (size_t i = 1; i < fires.size(); ++i) {
    EXPECT_EQ(fires[i] - fires[i - 1], 1000) << "at " << i;
  }
  auto state = server_->Run({"HGET", "taskq:{:schedules}:state", "tick"});
  const std::string record(state.view().str());
  // rev:next:runs:...: the runs counted once per fire time as well.
  size_t a = record.find(':'), b = record.find(':', a + 1), c = record.find(':', b + 1);
  const int64_t runs = std::stoll(record.substr(b + 1, c - b - 1));
  EXPECT_EQ(runs, static_cast<int64_t>(fires.size())) << record;
}

}  // namespace
}  // namespace taskq::testing
