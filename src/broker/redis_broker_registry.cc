// RedisBroker: schedules, the worker registry, metrics and history.
#include <algorithm>
#include <charconv>

#include "broker/redis_broker.h"

namespace taskq::broker {

Status RedisBroker::RegisterQueue(const std::string& queue) {
  const std::string registry = QueueRegistryKey(prefix_);
  auto reply = Run(KeySlot(registry), Command{"SADD", registry, queue});
  if (!reply.ok()) return reply.status();
  return ReplyError(*reply, "register queue");
}

Status RedisBroker::WorkerHeartbeat(const std::string& worker_id, const std::string& info_json,
                                    std::chrono::milliseconds sweep_after) {
  const std::string registry = WorkerRegistryKey(prefix_);
  ScriptCall call("worker_heartbeat", {registry, registry + ":sweep"});
  call.Arg(worker_id).Arg(info_json).Arg(static_cast<int64_t>(sweep_after.count()));
  auto n = RunIntScript(KeySlot(registry), call.Take(), "worker_heartbeat");
  return n.ok() ? Status::Ok() : n.status();
}

Result<ScheduleSaveResult> RedisBroker::SaveSchedule(const ScheduleSave& save) {
  const ScheduleKeys& k = schedule_keys_;
  ScriptCall call("schedule_save", ScheduleKeysOf(k));
  call.Arg(save.id).Arg(save.definition_json).Arg(save.create_only ? "create" : "upsert");
  call.Arg(save.next_fire_ms);
  call.Arg(save.paused ? (*save.paused ? "1" : "0") : "").Arg(save.max_runs);
  if (save.created_ms >= 0) {
    call.Arg(save.created_ms);
  } else {
    call.Arg(std::string_view());
  }
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "schedule_save"));
  ReplyView v = reply->view();
  if (v.size() != 2) return Internal("schedule_save: bad reply");
  ScheduleSaveResult out;
  out.record.id = save.id;
  if (!ParseScheduleState(v[1].str(), &out.record)) {
    return Internal("schedule_save: bad state record");
  }
  switch (v[0].AsInt()) {
    case -1:
      return Status(StatusCode::kAlreadyExists, "a schedule with id '" + save.id + "' exists",
                    "id");
    case 0:
      out.outcome = ScheduleSaveOutcome::kUnchanged;
      break;
    case 2:
      out.outcome = ScheduleSaveOutcome::kReplaced;
      break;
    default:
      out.outcome = ScheduleSaveOutcome::kCreated;
  }
  return out;
}

Result<bool> RedisBroker::RemoveSchedule(const std::string& id) {
  const ScheduleKeys& k = schedule_keys_;
  ScriptCall call("schedule_remove", ScheduleCountedKeysOf(k));
  call.Arg(id);
  auto n = RunIntScript(k.slot(), call.Take(), "schedule_remove");
  if (!n.ok()) return n.status();
  return *n == 1;
}

Result<ScheduleSnapshot> RedisBroker::GetSchedules(std::span<const std::string> ids) {
  return RunScheduleList("ids", 1, ids);
}

Result<ScheduleSnapshot> RedisBroker::DueSchedules(int32_t limit) {
  return RunScheduleList("due", std::clamp(limit, 1, 10000), {});
}

Result<bool> RedisBroker::SetSchedulePaused(const std::string& id, bool paused,
                                            int64_t next_fire_ms) {
  const ScheduleKeys& k = schedule_keys_;
  ScriptCall call("schedule_pause", ScheduleKeysOf(k));
  call.Arg(id).Arg(paused ? "1" : "0");
  if (paused) {
    call.Arg(std::string_view());
  } else {
    call.Arg(next_fire_ms);
  }
  auto n = RunIntScript(k.slot(), call.Take(), "schedule_pause");
  if (!n.ok()) return n.status();
  if (*n < 0) return Status(StatusCode::kNotFound, "no schedule with id '" + id + "'", "id");
  return *n == 1;
}

Result<bool> RedisBroker::AdvanceSchedule(const ScheduleAdvance& a) {
  const ScheduleKeys& k = schedule_keys_;
  ScriptCall call("schedule_advance", ScheduleCountedKeysOf(k));
  call.Arg(a.id).Arg(a.revision).Arg(a.expected_next_ms).Arg(a.next_ms).Arg(a.runs_added);
  call.Arg(a.last_fire_ms).Arg(a.last_job_id).Arg(a.missed_added);
  auto n = RunIntScript(k.slot(), call.Take(), "schedule_advance");
  if (!n.ok()) return n.status();
  return *n == 1;
}

Result<bool> RedisBroker::HoldSchedulerLease(const std::string& token,
                                             std::chrono::milliseconds lease) {
  ScriptCall call("scheduler_lease", {schedule_keys_.leader()});
  call.Arg(token).Arg(static_cast<int64_t>(lease.count()));
  auto n = RunIntScript(schedule_keys_.slot(), call.Take(), "scheduler_lease");
  if (!n.ok()) return n.status();
  return *n == 1;
}

Result<std::vector<OutboxEntry>> RedisBroker::TakeOutbox(const std::string& queue,
                                                         const std::string& token,
                                                         std::chrono::milliseconds lease,
                                                         int32_t max) {
  const QueueKeys& k = Keys(queue);
  ScriptCall call("outbox_take", OutboxKeys(k));
  call.Arg(token).Arg(static_cast<int64_t>(lease.count())).Arg(static_cast<int64_t>(max));
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "outbox_take"));
  std::vector<OutboxEntry> out;
  const ReplyView entries = reply->view();
  out.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const ReplyView entry = entries[i];
    if (entry.size() != 2) return Internal("outbox_take: bad entry");
    OutboxEntry& e = out.emplace_back();
    e.id = std::string(entry[0].str());
    const ReplyView fields = entry[1];
    for (size_t f = 0; f + 1 < fields.size(); f += 2) {
      e.fields.emplace_back(std::string(fields[f].str()), std::string(fields[f + 1].str()));
    }
  }
  return out;
}

Result<int64_t> RedisBroker::AckOutbox(const std::string& queue, const std::string& token,
                                       std::span<const std::string> entry_ids) {
  const QueueKeys& k = Keys(queue);
  ScriptCall call("outbox_ack", OutboxKeys(k));
  call.Arg(token);
  for (const std::string& id : entry_ids) call.Arg(id);
  return RunIntScript(k.slot(), call.Take(), "outbox_ack");
}

Status RedisBroker::AddMetrics(
    const std::vector<std::pair<std::string, CounterIncrements>>& per_queue) {
  std::vector<Command> commands;
  std::vector<uint16_t> slots;
  for (const auto& [queue, increments] : per_queue) {
    const QueueKeys& k = Keys(queue);
    for (const auto& [field, n] : increments) {
      commands.push_back(Command{"HINCRBY", k.metrics(), field}.Add(static_cast<long long>(n)));
      slots.push_back(k.slot());
    }
  }
  if (commands.empty()) return Status::Ok();
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommandsAcross(slots, commands, &replies));
  for (const Reply& r : replies) TASKQ_RETURN_IF_ERROR(ReplyError(r, "metrics"));
  return Status::Ok();
}

Result<Broker::CounterIncrements> RedisBroker::ReadMetrics(const std::string& queue) {
  auto reply = Run(Keys(queue).slot(), Command{"HGETALL", Keys(queue).metrics()});
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "metrics"));
  CounterIncrements out;
  ReplyView v = reply->view();
  for (size_t i = 0; i + 1 < v.size(); i += 2) {
    out.emplace_back(std::string(v[i].str()), v[i + 1].AsInt());
  }
  return out;
}

Result<Broker::HistoryRecordResult> RedisBroker::RecordShardHistory(
    const std::string& tag, std::chrono::milliseconds bucket, int32_t keep) {
  const QueueKeys& k = Keys(tag);
  ScriptCall call("history_record", HistoryRecordKeys(k));
  call.Arg(static_cast<int64_t>(bucket.count())).Arg(static_cast<int64_t>(keep));
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "history_record"));
  ReplyView v = reply->view();
  if (v.size() != 2) return Internal("history_record: bad reply");
  return HistoryRecordResult{v[0].AsInt() == 1, std::chrono::milliseconds(v[1].AsInt())};
}

Result<Broker::HistorySamples> RedisBroker::ReadShardHistory(const std::string& tag, int32_t max) {
  const QueueKeys& k = Keys(tag);
  std::vector<Command> commands = {
      {"TIME"},
      Command{"XREVRANGE", k.history(), "+", "-", "COUNT"}.Add(static_cast<long long>(max))};
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommands(k.slot(), commands, &replies));
  for (const Reply& r : replies) TASKQ_RETURN_IF_ERROR(ReplyError(r, "history"));
  HistorySamples out;
  ReplyView time = replies[0].view();
  out.now_ms = time[0].AsInt() * 1000 + time[1].AsInt() / 1000;
  ReplyView entries = replies[1].view();
  out.samples.reserve(entries.size());
  for (size_t i = entries.size(); i-- > 0;) {  // XREVRANGE answers newest first
    ReplyView entry = entries[i];
    if (entry.size() != 2) return Internal("history: bad entry");
    QueueHistorySample& s = out.samples.emplace_back();
    std::string_view id = entry[0].str();
    std::from_chars(id.data(), id.data() + id.size(), s.start_ms);
    ReplyView fields = entry[1];
    for (size_t f = 0; f + 1 < fields.size(); f += 2) {
      std::string_view name = fields[f].str();
      int64_t value = fields[f + 1].AsInt();
      if (name == "b")
        s.bucket_ms = value;
      else if (name == "e")
        s.enqueued_total = value;
      else if (name == "c")
        s.completed_total = value;
      else if (name == "f")
        s.failed_total = value;
      else if (name == "d")
        s.dead_total = value;
      else if (name == "w")
        s.waiting = value;
    }
  }
  return out;
}

Result<Broker::WorkerList> RedisBroker::ListWorkers(std::chrono::milliseconds max_age) {
  ScriptCall call("worker_list", {WorkerRegistryKey(prefix_)});
  call.Arg(static_cast<int64_t>(max_age.count()));
  auto reply = RunScript(KeySlot(WorkerRegistryKey(prefix_)), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "worker_list"));
  ReplyView v = reply->view();
  WorkerList list;
  if (v.size() < 1) return Internal("worker_list: empty reply");
  list.now_ms = v[0].AsInt();
  for (size_t i = 1; i + 1 < v.size(); i += 2) {
    list.workers.push_back({std::string(v[i].str()), std::string(v[i + 1].str())});
  }
  return list;
}

Result<ScheduleSnapshot> RedisBroker::RunScheduleList(std::string_view what, int32_t limit,
                                                      std::span<const std::string> ids) {
  const ScheduleKeys& k = schedule_keys_;
  ScriptCall call("schedule_list", ScheduleCountedKeysOf(k));
  call.Arg(what).Arg(limit);
  for (const std::string& id : ids) call.Arg(id);
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  return ParseScheduleList(*reply);
}

}  // namespace taskq::broker
