#include "scheduler/schedule_store.h"

#include <algorithm>

#include "broker/broker.h"
#include "common/job_codec.h"
#include "scheduler/fire_times.h"

namespace taskq::scheduler {
namespace {

ScheduleState StateOf(const broker::ScheduleRecord& r) {
  return ScheduleState{r.revision,    r.next_fire_ms, r.runs,       r.last_fire_ms,
                       r.last_job_id, r.paused,       r.created_ms, r.missed};
}

ScheduleInfo InfoOf(const broker::ScheduleRecord& r) {
  ScheduleInfo info;
  info.state = StateOf(r);
  auto definition = ParseScheduleDefinition(r.definition_json);
  if (definition.ok()) {
    info.definition = std::move(*definition);
  } else {
    info.definition.id = r.id;
    info.definition_error = definition.status();
  }
  return info;
}

}  // namespace

Status NoSuchSchedule(const std::string& id) {
  return Status(StatusCode::kNotFound, "no schedule with id '" + id + "'", "id");
}

const char* ScheduleStatusName(const ScheduleInfo& info) {
  if (!info.definition_error.ok()) return "unreadable";
  if (info.state.paused) return "paused";
  return info.state.ended() ? "ended" : "active";
}

int64_t ScheduleLateMs(const ScheduleInfo& info, int64_t now_ms) {
  if (!info.definition_error.ok() || info.state.paused || info.state.ended()) return 0;
  return std::max<int64_t>(0, now_ms - info.state.next_fire_ms);
}

Result<std::unique_ptr<ScheduleStore>> ScheduleStore::Open(const ClientOptions& options) {
  auto broker = broker::OpenBroker({options.redis_url, options.key_prefix});
  if (!broker.ok()) return broker.status();
  auto client = Client::Open(options);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ScheduleStore>(new ScheduleStore(std::move(*broker), std::move(*client)));
}

ScheduleStore::ScheduleStore(std::unique_ptr<broker::Broker> broker, std::unique_ptr<Client> client)
    : broker_(std::move(broker)), client_(std::move(client)) {}
ScheduleStore::~ScheduleStore() = default;

Result<SaveOutcome> ScheduleStore::Save(const ScheduleDefinition& definition, bool create_only) {
  auto compiled = Compile(definition);
  if (!compiled.ok()) return compiled.status();
  TASKQ_RETURN_IF_ERROR(ValidateScheduleDefinition(definition));
  // Redis' time and the created time of an existing schedule (the anchor of "@every").
  auto existing = broker_->GetSchedules(std::span<const std::string>(&definition.id, 1));
  if (!existing.ok()) return existing.status();
  const int64_t now = existing->now_ms;
  const int64_t created =
      existing->schedules.empty() ? now : existing->schedules.front().created_ms;
  broker::ScheduleSave save;
  save.id = definition.id;
  save.definition_json = EncodeScheduleDefinition(definition);
  save.create_only = create_only;
  save.next_fire_ms = NextFireTime(*compiled, now, created).value_or(-1);
  save.paused = definition.paused;
  save.max_runs = definition.max_runs;
  save.created_ms = now;
  auto saved = broker_->SaveSchedule(save);
  if (!saved.ok()) return saved.status();
  switch (saved->outcome) {
    case broker::ScheduleSaveOutcome::kCreated:
      return SaveOutcome::kCreated;
    case broker::ScheduleSaveOutcome::kReplaced:
      return SaveOutcome::kReplaced;
    case broker::ScheduleSaveOutcome::kUnchanged:
      break;
  }
  return SaveOutcome::kUnchanged;
}

Result<ScheduleList> ScheduleStore::List() {
  auto snapshot = broker_->ListSchedules();
  if (!snapshot.ok()) return snapshot.status();
  ScheduleList out;
  out.now_ms = snapshot->now_ms;
  for (const broker::ScheduleRecord& r : snapshot->schedules) out.schedules.push_back(InfoOf(r));
  return out;
}

Result<std::pair<std::optional<ScheduleInfo>, int64_t>> ScheduleStore::Get(const std::string& id) {
  TASKQ_RETURN_IF_ERROR(ValidateName("id", id));
  auto snapshot = broker_->GetSchedules(std::span<const std::string>(&id, 1));
  if (!snapshot.ok()) return snapshot.status();
  std::optional<ScheduleInfo> info;
  if (!snapshot->schedules.empty()) info = InfoOf(snapshot->schedules.front());
  return std::pair{std::move(info), snapshot->now_ms};
}

Result<bool> ScheduleStore::Remove(const std::string& id) {
  TASKQ_RETURN_IF_ERROR(ValidateName("id", id));
  return broker_->RemoveSchedule(id);
}

Result<bool> ScheduleStore::SetPaused(const std::string& id, bool paused) {
  auto found = Get(id);
  if (!found.ok()) return found.status();
  auto& [info, now] = *found;
  if (!info) return NoSuchSchedule(id);
  int64_t next = -1;
  if (!paused) {
    if (!info->definition_error.ok()) return info->definition_error;
    auto compiled = Compile(info->definition);
    if (!compiled.ok()) return compiled.status();
    next = NextFireTime(*compiled, now, info->state.created_ms).value_or(-1);
  }
  return broker_->SetSchedulePaused(id, paused, next);
}

Result<EnqueueResult> ScheduleStore::RunNow(const std::string& id) {
  auto found = Get(id);
  if (!found.ok()) return found.status();
  auto& [info, now] = *found;
  if (!info) return NoSuchSchedule(id);
  if (!info->definition_error.ok()) return info->definition_error;
  EnqueueRequest request = info->definition.JobTemplate();
  request.options.schedule_id = id;
  request.options.schedule_fire_ms = now;
  return client_->Enqueue(request);
}

}  // namespace taskq::scheduler
