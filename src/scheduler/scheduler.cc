#include "scheduler/scheduler.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <random>

#include "broker/broker.h"
#include "common/ids.h"
#include "scheduler/fire_times.h"

namespace taskq::scheduler {
namespace {

std::string ProcessToken() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + NewJobId().substr(10);
}

}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::Open(SchedulerOptions options) {
  auto broker = broker::OpenBroker({options.redis_url, options.key_prefix});
  if (!broker.ok()) return broker.status();
  ClientOptions client_options;
  client_options.redis_url = options.redis_url;
  client_options.key_prefix = options.key_prefix;
  auto client = Client::Open(client_options);
  if (!client.ok()) return client.status();
  return std::unique_ptr<Scheduler>(
      new Scheduler(std::move(options), std::move(*broker), std::move(*client)));
}

Scheduler::Scheduler(SchedulerOptions options, std::unique_ptr<broker::Broker> broker,
                     std::unique_ptr<Client> client)
    : options_(std::move(options)),
      token_(ProcessToken()),
      broker_(std::move(broker)),
      client_(std::move(client)) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  if (leader_) {
    auto released = broker_->HoldSchedulerLease(token_, std::chrono::milliseconds(0));
    if (!released.ok())
      spdlog::warn("scheduler: giving up the lease: {}", released.status().ToString());
    leader_ = false;
  }
}

void Scheduler::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto tick = RunOnce();
    if (!tick.ok()) spdlog::warn("scheduler: {}", tick.status().ToString());
    lock.lock();
    if (tick.ok() && tick->more_due) continue;
    wake_.wait_for(lock, options_.tick, [this] { return stopping_; });
  }
}

Result<Scheduler::TickResult> Scheduler::RunOnce() {
  TickResult result;
  auto held = broker_->HoldSchedulerLease(token_, options_.lease);
  if (!held.ok()) return held.status();
  if (*held != leader_) {
    spdlog::info("scheduler {}: {} the lease", token_, *held ? "took" : "lost");
  }
  leader_ = *held;
  result.leader = leader_;
  if (!leader_) return result;

  auto due = broker_->DueSchedules(options_.max_due_per_tick);
  if (!due.ok()) return due.status();
  const bool full = static_cast<int32_t>(due->schedules.size()) >= options_.max_due_per_tick;
  for (const broker::ScheduleRecord& record : due->schedules) {
    auto definition = ParseScheduleDefinition(record.definition_json);
    auto compiled = definition.ok() ? Compile(std::move(*definition))
                                    : Result<CompiledSchedule>(definition.status());
    if (!compiled.ok()) {
      // Left due: fixed by saving the schedule again (or removing it).
      spdlog::error("schedule {}: unreadable definition: {}", record.id,
                    compiled.status().ToString());
      continue;
    }
    const FirePlan plan = PlanFires(*compiled, record.next_fire_ms, record.runs, record.created_ms,
                                    due->now_ms, options_.grace);
    // Jobs first, with ids derived from the fire times: if this process dies before the advance
    // below, the next scheduler enqueues the same ids again, which changes nothing.
    std::vector<EnqueueRequest> jobs;
    for (int64_t fire_ms : plan.fire_times) {
      EnqueueRequest job = compiled->definition.JobTemplate();
      job.options.job_id = FireJobId(record.id, fire_ms);
      job.options.schedule_id = record.id;
      job.options.schedule_fire_ms = fire_ms;
      jobs.push_back(std::move(job));
    }
    // In parts: a long catch-up plan may hold more jobs than one bulk call takes.
    constexpr size_t kJobsPerCall = kMaxBulkJobs;
    Status enqueued = Status::Ok();
    for (size_t first = 0; first < jobs.size() && enqueued.ok(); first += kJobsPerCall) {
      auto part = client_->EnqueueBulk(
          std::span(jobs).subspan(first, std::min(kJobsPerCall, jobs.size() - first)));
      enqueued = part.status();
      if (part.ok()) {
        for (const EnqueueResult& r : *part) result.jobs_enqueued += r.created ? 1 : 0;
      }
    }
    if (!enqueued.ok()) {
      spdlog::error("schedule {}: enqueue failed: {}", record.id, enqueued.ToString());
      continue;  // not advanced: retried next tick (the ids make the parts done already no-ops)
    }
    broker::ScheduleAdvance advance;
    advance.id = record.id;
    advance.revision = record.revision;
    advance.expected_next_ms = record.next_fire_ms;
    advance.next_ms = plan.next_ms;
    advance.runs_added = static_cast<int64_t>(plan.fire_times.size());
    advance.missed_added = plan.missed;
    if (!plan.fire_times.empty()) {
      advance.last_fire_ms = plan.fire_times.back();
      advance.last_job_id = FireJobId(record.id, plan.fire_times.back());
    }
    auto advanced = broker_->AdvanceSchedule(advance);
    if (!advanced.ok()) return advanced.status();
    ++(*advanced ? result.advanced : result.refused);
  }
  // Another tick at once only when this one got somewhere: schedules that keep failing (an
  // unreadable definition, a failing enqueue) wait for the next tick instead of spinning.
  result.more_due = full && result.advanced + result.refused > 0;
  return result;
}

}  // namespace taskq::scheduler
