// Parsing RedisBroker's replies: claims, jobs and their state records, schedules.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "broker/redis_broker.h"
#include "broker/state_record.h"
#include "common/job_codec.h"

namespace taskq::broker {

Status ReplyError(const Reply& reply, std::string_view what) {
  Status s = reply.ErrorStatus();
  if (s.ok()) return s;
  return Status(s.code(), std::string(what) + ": " + s.message());
}

std::vector<bool> ParseFlags(ReplyView v) {
  std::vector<bool> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i].AsInt() != 0;
  return out;
}

std::vector<std::string> ParseStrings(ReplyView v) {
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) out.emplace_back(v[i].str());
  return out;
}

Result<ClaimResult> ParseClaim(const Reply& reply) {
  TASKQ_RETURN_IF_ERROR(ReplyError(reply, "claim"));
  ReplyView v = reply.view();
  if (v.size() < 6) return Internal("claim: short reply");
  ClaimResult out;
  out.now_ms = v[0].AsInt();
  out.paused = v[1].AsInt() != 0;
  out.more = v[2].AsInt() != 0;
  out.next_due_in_ms = v[3].AsInt(-1);
  size_t count = static_cast<size_t>(v[4].AsInt());
  // Every job of one claim holds the same token.
  const int64_t token = count == 0 ? 0 : ParseTokenText(v[5].str()).value_or(-1);
  if (token < 0) return Internal("claim: bad token");
  if (v.size() != 6 + 3 * count) return Internal("claim: reply size mismatch");
  out.jobs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    size_t b = 6 + 3 * i;
    const long long attempt = v[b + 2].AsInt();  // negated for a restart (claim.lua)
    out.jobs.push_back(ClaimedJob{std::string(v[b].str()), std::string(v[b + 1].str()),
                                  static_cast<int32_t>(attempt < 0 ? -attempt : attempt), token,
                                  attempt < 0});
  }
  return out;
}

Result<ExtendResult> ParseExtend(const Reply& reply) {
  TASKQ_RETURN_IF_ERROR(ReplyError(reply, "extend"));
  ReplyView v = reply.view();
  if (v.size() != 2) return Internal("extend: bad reply");
  return ExtendResult{ParseStrings(v[0]), ParseStrings(v[1])};
}

Result<std::vector<bool>> ParseFlagsReply(const Reply& reply, std::string_view what,
                                          size_t expected) {
  TASKQ_RETURN_IF_ERROR(ReplyError(reply, what));
  if (reply.view().size() != expected) return Internal(std::string(what) + ": bad reply size");
  return ParseFlags(reply.view());
}

std::optional<JobState> StateFromField(std::string_view st) {
  if (st == "retrying") return JobState::kRetrying;
  return ParseJobState(st);
}

// Builds a Job from a get_job reply; nullopt when the job does not exist.
Result<std::optional<Job>> ParseJob(const std::string& queue, const std::string& id,
                                    const Reply& reply) {
  TASKQ_RETURN_IF_ERROR(ReplyError(reply, "get_job"));
  ReplyView v = reply.view();
  if (v.size() == 0 || v[0].is_nil()) return std::optional<Job>();
  if (v.size() != 10) return Internal("get_job: bad reply");
  auto body = DecodeJobBody(v[0].str(), queue);
  if (!body.ok()) return body.status();
  Job job;
  job.id = id;
  job.queue = queue;
  job.type = std::move(body->type);
  job.data_json = std::move(body->data_json);
  job.options = std::move(body->options);
  job.options.queue = queue;
  job.options.job_id = id;
  job.created_ms = body->created_ms;
  job.result_json = "null";
  if (!v[8].is_nil()) job.options.group = std::string(v[8].str());
  std::optional<JobState> state;
  std::string token;  // of the lease it holds, if active
  if (!v[1].is_nil()) {
    std::optional<StateRecord> record = ParseStateRecord(v[1].str());
    if (!record) return Internal("get_job: bad state record");
    if (!record->state.empty()) state = StateFromField(record->state);
    job.attempts = static_cast<int32_t>(record->attempts);
    job.stalls = static_cast<int32_t>(record->stalls);
    job.started_ms = record->started_ms;
    job.finished_ms = record->finished_ms;
    token = std::move(record->token);
  }
  if (!v[2].is_nil()) job.result_json = std::string(v[2].str());
  if (!v[3].is_nil()) job.progress_json = std::string(v[3].str());
  if (!v[6].is_nil()) job.due_ms = v[6].AsInt();
  if (!v[7].is_nil()) job.due_ms = v[7].AsInt();
  if (!state || *state == JobState::kWaiting) {
    // never claimed (or back to waiting): a delayed score says it is not due yet
    state = v[6].is_nil() ? JobState::kWaiting : JobState::kDelayed;
  }
  job.state = *state;
  // An overrun mark "token:since:timeout" (overrun.lua) describes the attempt holding its token.
  if (job.state == JobState::kActive && !v[9].is_nil() && !token.empty()) {
    std::string_view mark = v[9].str();
    const size_t first = mark.find(':');
    const size_t second = mark.find(':', first == std::string_view::npos ? first : first + 1);
    if (second != std::string_view::npos && mark.substr(0, first) == token) {
      std::from_chars(mark.data() + first + 1, mark.data() + second, job.overrunning_since_ms);
      std::from_chars(mark.data() + second + 1, mark.data() + mark.size(), job.overrun_timeout_ms);
    }
  }
  for (size_t i = 0; i < v[4].size(); ++i) {
    // Stored as {"at":ms,"attempt":n,"message":"..."} by fail.lua / recover.lua.
    AttemptError error;
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(v[4][i].str(), ec);
    if (const boost::json::object* o = ec ? nullptr : parsed.if_object()) {
      if (auto* at = o->if_contains("at"); at && at->is_number()) {
        error.at_ms = at->to_number<int64_t>();
      }
      if (auto* n = o->if_contains("attempt"); n && n->is_number()) {
        error.attempt = n->to_number<int32_t>();
      }
      if (auto* m = o->if_contains("message"); m && m->is_string()) {
        error.message = std::string(m->get_string());
      }
    } else {
      error.message = std::string(v[4][i].str());  // not ours: show it as it is
    }
    job.errors.push_back(std::move(error));
  }
  job.logs = ParseStrings(v[5]);
  return std::optional<Job>(std::move(job));
}

// A schedule's state record "rev:next:runs:last_fire:paused:created:last_job"
// (src/broker/lua/include/schedule_state.lua); false when malformed.
bool ParseScheduleState(std::string_view text, ScheduleRecord* out) {
  int64_t numbers[6];
  size_t start = 0;
  for (int i = 0; i < 6; ++i) {
    size_t colon = text.find(':', start);
    if (colon == std::string_view::npos) return false;
    auto [end, ec] = std::from_chars(text.data() + start, text.data() + colon, numbers[i]);
    if (ec != std::errc() || end != text.data() + colon) return false;
    start = colon + 1;
  }
  out->revision = numbers[0];
  out->next_fire_ms = numbers[1];
  out->runs = numbers[2];
  out->last_fire_ms = numbers[3];
  out->paused = numbers[4] != 0;
  out->created_ms = numbers[5];
  out->last_job_id = std::string(text.substr(start));
  return true;
}

Result<ScheduleSnapshot> ParseScheduleList(const Reply& reply) {
  TASKQ_RETURN_IF_ERROR(ReplyError(reply, "schedule_list"));
  ReplyView v = reply.view();
  if (v.size() < 1 || (v.size() - 1) % 4 != 0) return Internal("schedule_list: bad reply");
  ScheduleSnapshot out;
  out.now_ms = v[0].AsInt();
  for (size_t i = 1; i < v.size(); i += 4) {
    ScheduleRecord record;
    record.id = std::string(v[i].str());
    record.definition_json = std::string(v[i + 1].str());
    // A definition without a readable record is shown as ended; saving it again repairs it.
    if (!ParseScheduleState(v[i + 2].str(), &record)) record.next_fire_ms = -1;
    record.missed = v[i + 3].AsInt();
    out.schedules.push_back(std::move(record));
  }
  return out;
}

}  // namespace taskq::broker
