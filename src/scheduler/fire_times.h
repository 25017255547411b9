// When a schedule fires: the next fire time within its window, and what a scheduler does with a
// schedule whose next fire time has come (which fire times get a job, and the following one).
// Pure: the caller passes Redis' time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "scheduler/cron_expression.h"
#include "scheduler/schedule_definition.h"

namespace date {
class time_zone;
}

namespace taskq::scheduler {

// A definition with its expression parsed and its zone found.
struct CompiledSchedule {
  ScheduleDefinition definition;
  schedule::CronExpression cron;
  const date::time_zone* zone = nullptr;
};

Result<CompiledSchedule> Compile(ScheduleDefinition definition);

// The first fire time strictly after `after_ms` and not before start_ms; nullopt when there is
// none, or it is after end_ms. `created_ms` anchors "@every" when there is no start_ms.
std::optional<int64_t> NextFireTime(const CompiledSchedule& s, int64_t after_ms,
                                    int64_t created_ms);

// Up to `count` fire times after `after_ms` (GET /api/schedules/{id} shows ten).
std::vector<int64_t> NextFireTimes(const CompiledSchedule& s, int64_t after_ms, int64_t created_ms,
                                   size_t count);

struct FirePlan {
  std::vector<int64_t> fire_times;  // enqueue one job for each, in this order (oldest first)
  int64_t next_ms = -1;             // the next fire time after now; -1: the schedule ends
  // Fire times passed over as missed (more than `grace` late and not caught up). After a walk
  // longer than `max_walk`, the ones walked: the rest of the gap is not counted.
  int64_t missed = 0;
};

// For a schedule whose stored next fire time `next_ms` is not after `now_ms`: every fire time up
// to now that is at most `grace` late gets a job; older ones are missed, and of those the
// definition's catch_up most recent get one too (skip: none). max_runs counts `runs` already
// made. A walk over more than `max_walk` fire times (a per-second schedule after days without a
// scheduler) treats everything before now - grace as missed without looking further.
FirePlan PlanFires(const CompiledSchedule& s, int64_t next_ms, int64_t runs, int64_t created_ms,
                   int64_t now_ms, std::chrono::milliseconds grace, size_t max_walk = 1000000);

// The job id of a schedule's fire time: deterministic, so that every scheduler that handles the
// fire time enqueues the same job (enqueue is idempotent by id).
std::string FireJobId(const std::string& schedule_id, int64_t fire_ms);

}  // namespace taskq::scheduler
