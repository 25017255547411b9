// Managing schedules: create, replace, list, read, remove, pause, resume and "run now". Used by the
// API, the CLI and the config-file sync. Not thread-safe: one per thread (like the broker).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scheduler/schedule_definition.h"
#include "taskq/client.h"
#include "taskq/status.h"

namespace taskq::broker {
class Broker;
}

namespace taskq::scheduler {

// A schedule's state record (docs/redis-keys.md).
struct ScheduleState {
  int64_t revision = 0;
  int64_t next_fire_ms = -1;  // -1: ended
  int64_t runs = 0;
  int64_t last_fire_ms = 0;  // 0: never fired
  std::string last_job_id;
  bool paused = false;
  int64_t created_ms = 0;
  int64_t missed = 0;  // fire times missed and not caught up, ever
  bool ended() const { return next_fire_ms < 0; }
};

struct ScheduleInfo {
  ScheduleDefinition definition;
  ScheduleState state;
  Status definition_error;  // a stored definition this build cannot read (shown, never fired)
};

// "active", "paused", "ended" or "unreadable", as the API and the CLI show it.
const char* ScheduleStatusName(const ScheduleInfo& info);
// How far an active schedule's next fire time is behind `now_ms` (Redis time); 0 when it is not
// yet due, or the schedule is paused, ended or unreadable. A scheduler keeps it under a tick or so;
// a growing one means no scheduler runs (or none reaches Redis).
int64_t ScheduleLateMs(const ScheduleInfo& info, int64_t now_ms);
// kNotFound naming the id, for every "no such schedule" answer.
Status NoSuchSchedule(const std::string& id);

struct ScheduleList {
  int64_t now_ms = 0;  // Redis time
  std::vector<ScheduleInfo> schedules;
};

enum class SaveOutcome { kCreated, kReplaced, kUnchanged };

class ScheduleStore {
 public:
  static Result<std::unique_ptr<ScheduleStore>> Open(const ClientOptions& options);
  ~ScheduleStore();
  ScheduleStore(const ScheduleStore&) = delete;
  ScheduleStore& operator=(const ScheduleStore&) = delete;

  // create_only: an existing id fails with kAlreadyExists (field "id"). Otherwise a changed
  // definition replaces the stored one (its next fire time recomputed from now; runs and last run
  // kept) and an unchanged one keeps its state. definition.paused, when set, pauses or resumes.
  Result<SaveOutcome> Save(const ScheduleDefinition& definition, bool create_only);
  Result<ScheduleList> List();
  // The schedule (none: not found) and Redis' time.
  Result<std::pair<std::optional<ScheduleInfo>, int64_t>> Get(const std::string& id);
  Result<bool> Remove(const std::string& id);  // false: there was none
  // false: it already was so; kNotFound. Resuming continues from the first fire time after now.
  Result<bool> SetPaused(const std::string& id, bool paused);
  // Enqueues one job from the schedule's template now, without advancing the schedule; the job
  // records the schedule and the time it was asked for. kNotFound.
  Result<EnqueueResult> RunNow(const std::string& id);

 private:
  ScheduleStore(std::unique_ptr<broker::Broker> broker, std::unique_ptr<Client> client);
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<Client> client_;
};

}  // namespace taskq::scheduler
