// A schedule's definition: what it enqueues and when. One strict JSON codec for the API's bodies,
// the stored form (docs/redis-keys.md) and the config file's [[schedules]]; every error names the
// field ("cron", "tz", "options.priority") and the rule it broke.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "scheduler/cron_expression.h"
#include "taskq/client.h"
#include "taskq/status.h"

namespace taskq::scheduler {

struct ScheduleDefinition {
  std::string id;  // 1..64 of [A-Za-z0-9_.-]
  std::string cron;
  std::string tz = "UTC";  // IANA zone the cron fields are read in
  // The job template: queue (empty: the type), type, data and options (priority, max_attempts,
  // backoff, timeout_ms, retention; no id, delay or run_at).
  std::string queue;
  std::string type;
  std::string data_json = "{}";
  EnqueueOptions options;
  std::optional<int64_t> start_ms;  // no fire time before this (Unix ms)
  std::optional<int64_t> end_ms;    // nor after this; then the schedule ends
  int64_t max_runs = 0;             // 0: no limit; once reached the schedule ends
  // Missed fire times (more than the scheduler's grace late, docs/architecture.md): 0 skips them
  // ("skip"), N > 0 enqueues the N most recent of them ({"catch_up": N}).
  int32_t catch_up = 0;
  // Input only, never stored (the state record holds the flag): set it on save; unset keeps it.
  std::optional<bool> paused;

  // The request a fire time enqueues, without id and origin.
  EnqueueRequest JobTemplate() const;
  const std::string& job_queue() const { return queue.empty() ? type : queue; }
};

inline constexpr int32_t kMaxCatchUp = 1000;

// Checks a job template beyond the generic job rules, e.g. the API's known types and their data
// validators. Field names in its errors start with "data." or are "type" or "queue".
using JobCheck = std::function<Status(const EnqueueRequest&)>;

// Parses a definition object. `path_id`, when not empty, is the id from the URL: the body may then
// leave "id" out, and must match it when it gives one. Checks the cron expression ("cron", with
// the parser's "position P: reason") and the zone ("tz") too, and with `check_job` the job
// template. An invalid definition is kInvalidArgument naming the first invalid field and carrying
// the others.
Result<ScheduleDefinition> ParseScheduleDefinition(std::string_view json,
                                                   std::string_view path_id = {},
                                                   const JobCheck& check_job = {});
// The same rules for a definition built in code (the config file), also naming every invalid
// field.
Status ValidateScheduleDefinition(const ScheduleDefinition& definition);
// The stored form: every field in a fixed order, so equal definitions are equal strings; without
// "paused".
std::string EncodeScheduleDefinition(const ScheduleDefinition& definition);

}  // namespace taskq::scheduler
