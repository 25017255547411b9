// The schedule loop against a real redis-server: Scheduler::RunOnce driven directly, several
// schedulers on one Redis, a scheduler that died between the enqueue and the advance, pause and
// run-now, max_runs.
#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <set>

#include "broker/broker.h"
#include "scheduler/schedule_store.h"
#include "taskq/inspector.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace taskq::scheduler {
namespace {

using std::chrono::milliseconds;

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::RedisServer>();
    store_ = std::move(*ScheduleStore::Open({server_->url()}));
    inspector_ = std::move(*Inspector::Open({server_->url()}));
  }
  std::unique_ptr<Scheduler> NewScheduler() {
    SchedulerOptions options;
    options.redis_url = server_->url();
    options.lease = milliseconds(60000);  // only Stop() hands it over in these tests
    auto s = Scheduler::Open(options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  void Save(const std::string& json) {
    auto d = ParseScheduleDefinition(json);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto saved = store_->Save(*d, true);
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  }
  ScheduleState State(const std::string& id) {
    auto got = store_->Get(id);
    EXPECT_TRUE(got.ok() && got->first.has_value());
    return got.ok() && got->first ? got->first->state : ScheduleState{};
  }
  std::vector<Job> Jobs(const std::string& queue) {
    auto jobs = inspector_->List(queue, JobState::kWaiting, 0, 1000);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    return jobs.ok() ? *jobs : std::vector<Job>{};
  }

  std::unique_ptr<testing::RedisServer> server_;
  std::unique_ptr<ScheduleStore> store_;
  std::unique_ptr<Inspector> inspector_;
};

TEST_F(SchedulerTest, EachFireTimeGetsOneJobThatRecordsItsScheduleAndFireTime) {
  Save(R"({"id":"tick","cron":"* * * * * *","type":"tick","queue":"q","data":{"n":1}})");
  auto a = NewScheduler();
  auto b = NewScheduler();
  int64_t a_led = 0, b_led = 0;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        for (Scheduler* s : {a.get(), b.get()}) {
          auto tick = s->RunOnce();
          EXPECT_TRUE(tick.ok()) << tick.status().ToString();
          if (tick.ok() && tick->leader) ++(s == a.get() ? a_led : b_led);
        }
        return State("tick").runs >= 3;
      },
      milliseconds(15000)));
  EXPECT_GT(a_led, 0);
  EXPECT_EQ(b_led, 0);  // a holds the lease
  const ScheduleState state = State("tick");
  const std::vector<Job> jobs = Jobs("q");
  ASSERT_EQ(static_cast<int64_t>(jobs.size()), state.runs);
  std::vector<int64_t> fires;
  for (const Job& job : jobs) {
    EXPECT_EQ(job.options.schedule_id, "tick");
    EXPECT_EQ(job.id, "s:tick:" + std::to_string(job.options.schedule_fire_ms));
    EXPECT_EQ(job.type, "tick");
    EXPECT_EQ(job.data_json, R"({"n":1})");
    fires.push_back(job.options.schedule_fire_ms);
  }
  // Consecutive whole seconds: none missed, none twice.
  for (size_t i = 1; i < fires.size(); ++i) EXPECT_EQ(fires[i] - fires[i - 1], 1000) << i;
  EXPECT_EQ(fires.front() % 1000, 0);
  EXPECT_EQ(state.last_fire_ms, fires.back());
  EXPECT_EQ(state.last_job_id, jobs.back().id);
  EXPECT_EQ(state.next_fire_ms, fires.back() + 1000);
}

TEST_F(SchedulerTest, ASchedulerThatDiedBeforeAdvancingLeavesNoDuplicate) {
  Save(R"({"id":"tick","cron":"* * * * * *","type":"tick","queue":"q"})");
  const ScheduleState before = State("tick");
  // A scheduler enqueued the job of the next fire time and died before the advance.
  auto client = std::move(*Client::Open({server_->url()}));
  EnqueueRequest job{"tick", "{}", {}};
  job.options.queue = "q";
  job.options.job_id = "s:tick:" + std::to_string(before.next_fire_ms);
  job.options.schedule_id = "tick";
  job.options.schedule_fire_ms = before.next_fire_ms;
  ASSERT_TRUE(client->Enqueue(job).ok());
  auto survivor = NewScheduler();
  Scheduler::TickResult tick;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto t = survivor->RunOnce();
        if (t.ok()) tick = *t;
        return t.ok() && t->advanced > 0;
      },
      milliseconds(5000)));
  const ScheduleState after = State("tick");
  EXPECT_EQ(after.runs, before.runs + static_cast<int64_t>(Jobs("q").size()));
  std::set<int64_t> fires;
  for (const Job& j : Jobs("q")) fires.insert(j.options.schedule_fire_ms);
  EXPECT_EQ(fires.size(), Jobs("q").size());
  EXPECT_TRUE(fires.contains(before.next_fire_ms));
  // The pre-enqueued job was found, not created again.
  EXPECT_EQ(tick.jobs_enqueued, static_cast<int64_t>(Jobs("q").size()) - 1);
}

TEST_F(SchedulerTest, AnAdvanceComputedFromAStaleReadIsRefused) {
  Save(R"({"id":"tick","cron":"* * * * * *","type":"tick","queue":"q"})");
  const ScheduleState state = State("tick");
  auto broker = std::move(*broker::OpenBroker({server_->url(), "taskq"}));
  broker::ScheduleAdvance advance{"tick",
                                  state.revision,
                                  state.next_fire_ms,
                                  state.next_fire_ms + 1000,
                                  1,
                                  state.next_fire_ms,
                                  "s:tick:" + std::to_string(state.next_fire_ms)};
  auto first = broker->AdvanceSchedule(advance);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  auto second = broker->AdvanceSchedule(advance);  // a second scheduler with the same read
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  EXPECT_EQ(State("tick").runs, 1);
  EXPECT_EQ(State("tick").next_fire_ms, state.next_fire_ms + 1000);
}

TEST_F(SchedulerTest, OnlyTheLeaseHolderWorksAndStopHandsTheLeaseOver) {
  auto a = NewScheduler();
  auto b = NewScheduler();
  EXPECT_TRUE(a->RunOnce()->leader);
  EXPECT_FALSE(b->RunOnce()->leader);
  EXPECT_TRUE(a->RunOnce()->leader);  // renewed
  a->Start();
  a->Stop();  // gives the lease up
  EXPECT_TRUE(b->RunOnce()->leader);
}

TEST_F(SchedulerTest, PausedScheduleFiresNothingAndRunNowDoesNotAdvanceIt) {
  Save(R"({"id":"p","cron":"* * * * * *","type":"tick","queue":"q","paused":true})");
  auto s = NewScheduler();
  const ScheduleState before = State("p");
  EXPECT_TRUE(before.paused);
  // Not in the due set at all, so no tick can fire it.
  EXPECT_EQ(server_->Run({"ZCARD", "taskq:{:schedules}:due"}).view().integer(), 0);
  auto tick = s->RunOnce();
  ASSERT_TRUE(tick.ok());
  EXPECT_TRUE(tick->leader);
  EXPECT_EQ(tick->advanced + tick->refused, 0);
  auto run = store_->RunNow("p");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->created);
  auto job = inspector_->Find(run->id, "q");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->options.schedule_id, "p");
  EXPECT_GT((*job)->options.schedule_fire_ms, 0);
  const ScheduleState after = State("p");
  EXPECT_EQ(after.next_fire_ms, before.next_fire_ms);
  EXPECT_EQ(after.runs, 0);
  EXPECT_EQ(Jobs("q").size(), 1u);
  EXPECT_EQ(store_->RunNow("nope").status().code(), StatusCode::kNotFound);
  // Resume continues from the next fire time after now.
  ASSERT_TRUE(*store_->SetPaused("p", false));
  EXPECT_FALSE(State("p").paused);
  EXPECT_GE(State("p").next_fire_ms, before.next_fire_ms);
}

TEST_F(SchedulerTest, MaxRunsEndsTheSchedule) {
  Save(R"({"id":"twice","cron":"* * * * * *","type":"tick","queue":"q","max_runs":2})");
  auto s = NewScheduler();
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        EXPECT_TRUE(s->RunOnce().ok());
        return State("twice").ended();
      },
      milliseconds(10000)));
  EXPECT_EQ(State("twice").runs, 2);
  EXPECT_EQ(Jobs("q").size(), 2u);
  auto due = std::move(*broker::OpenBroker({server_->url(), "taskq"}))->DueSchedules(10);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->schedules.empty());
}

// Regression: a full batch of due schedules that all failed made the loop tick again at once,
// spinning for as long as they kept failing.
TEST_F(SchedulerTest, AFullBatchThatMadeNoProgressWaitsForTheNextTick) {
  auto broker = std::move(*broker::OpenBroker({server_->url(), "taskq"}));
  broker::ScheduleSave broken;
  broken.id = "broken";
  broken.definition_json = R"({"id":"broken","cron":"not a cron","type":"tick"})";
  broken.next_fire_ms = 1;  // long due
  auto saved = broker->SaveSchedule(broken);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  SchedulerOptions options;
  options.redis_url = server_->url();
  options.max_due_per_tick = 1;
  auto s = std::move(*Scheduler::Open(options));
  auto tick = s->RunOnce();
  ASSERT_TRUE(tick.ok()) << tick.status().ToString();
  EXPECT_EQ(tick->advanced, 0);
  EXPECT_FALSE(tick->more_due);
  // A full batch that advanced something does ask for another tick.
  ASSERT_TRUE(broker->RemoveSchedule("broken").ok());
  Save(R"({"id":"a","cron":"* * * * * *","type":"tick","queue":"q"})");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        tick = s->RunOnce();
        return tick.ok() && tick->advanced == 1;
      },
      milliseconds(5000)));
  EXPECT_TRUE(tick->more_due);
}

}  // namespace
}  // namespace taskq::scheduler
