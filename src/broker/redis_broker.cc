// Broker on Redis: every method is one round trip; each transition runs one script.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <charconv>
#include <functional>
#include <limits>
#include <optional>
#include <unordered_map>

#include "broker/broker.h"
#include "broker/keys.h"
#include "broker/redis_connection.h"
#include "broker/scripts.h"
#include "broker/token_text.h"
#include "common/job_codec.h"
#include "common/text_list.h"
#include "common/unique_key.h"

namespace taskq::broker {
namespace {

constexpr int32_t kMaxClaim = 1000;
constexpr int32_t kPromoteLimit = 1000;
constexpr size_t kMaxLogLinesPerUpdate = 1000;  // progress.lua's bound on k

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

// Builds EVALSHA calls; the keys come first, then the arguments.
class ScriptCall {
 public:
  ScriptCall(std::string_view script, std::initializer_list<std::string> keys) {
    const ScriptSource& source = ScriptNamed(script);
    command_.Add("EVALSHA").Add(source.sha1).Add(static_cast<long long>(keys.size()));
    for (const auto& k : keys) command_.Add(k);
  }
  ScriptCall& Arg(std::string_view v) {
    command_.Add(v);
    return *this;
  }
  ScriptCall& Arg(int64_t v) {
    command_.Add(static_cast<long long>(v));
    return *this;
  }
  // A fencing token, as the scripts hold it (token_text.h).
  ScriptCall& Token(int64_t token) {
    command_.Add(TokenText(token));
    return *this;
  }
  Command Take() { return std::move(command_); }

 private:
  Command command_;
};

Command CompleteCommand(const QueueKeys& k, std::span<const Completion> completions,
                        const Retention& keep) {
  ScriptCall call("complete", {k.active(), k.completed(), k.meta(), k.state(), k.results()});
  call.Arg(k.base()).Arg(static_cast<int64_t>(completions.size()));
  call.Arg(keep.count).Arg(static_cast<int64_t>(keep.age.count()));
  // A token like the one before it goes as "" (complete.lua): completions of one claim share it.
  int64_t previous_token = 0;
  for (const Completion& c : completions) {
    call.Arg(c.lease.id);
    if (c.lease.token == previous_token && previous_token != 0) {
      call.Arg(std::string_view());
    } else {
      call.Token(c.lease.token);
    }
    previous_token = c.lease.token;
    call.Arg(c.result_json);
  }
  return call.Take();
}

Command FailCommand(const QueueKeys& k, std::span<const Failure> failures,
                    const FinishPolicy& policy) {
  ScriptCall call("fail", {k.active(), k.retry(), k.dead(), k.meta(), k.state()});
  call.Arg(k.base()).Arg(static_cast<int64_t>(failures.size())).Arg(policy.max_errors_kept);
  call.Arg(policy.keep_dead.count).Arg(static_cast<int64_t>(policy.keep_dead.age.count()));
  for (const Failure& f : failures) call.Arg(f.lease.id).Token(f.lease.token).Arg(f.retry_delay_ms);
  for (const Failure& f : failures) call.Arg(f.error_json);
  return call.Take();
}

Command PostponeCommand(const QueueKeys& k, std::span<const Postponement> postponements,
                        int32_t max_log_lines) {
  ScriptCall call("postpone", {k.active(), k.delayed(), k.state()});
  call.Arg(k.base()).Arg(static_cast<int64_t>(postponements.size())).Arg(max_log_lines);
  for (const Postponement& p : postponements) {
    call.Arg(p.lease.id).Token(p.lease.token);
    if (p.handback) {
      call.Arg("handback");
    } else {
      call.Arg(p.delay_ms);
    }
    call.Arg(p.log_line);
  }
  return call.Take();
}

Command ProgressCommand(const QueueKeys& k, std::span<const ProgressUpdate> updates,
                        int32_t max_log_lines) {
  ScriptCall call("progress", {k.state(), k.progress()});
  call.Arg(k.base()).Arg(max_log_lines);
  for (const ProgressUpdate& u : updates) {
    call.Arg(u.lease.id).Token(u.lease.token).Arg(u.progress_json);
    // The log keeps its newest max_log_lines lines, so older ones need not travel; the script
    // takes at most kMaxLogLinesPerUpdate per job.
    const size_t kept = std::min<size_t>(
        u.log_lines.size(), std::min<size_t>(std::max(max_log_lines, 1), kMaxLogLinesPerUpdate));
    call.Arg(static_cast<int64_t>(kept));
    for (size_t i = u.log_lines.size() - kept; i < u.log_lines.size(); ++i) {
      call.Arg(u.log_lines[i]);
    }
  }
  return call.Take();
}

Command OverrunCommand(const QueueKeys& k, std::span<const OverrunNotice> notices) {
  ScriptCall call("overrun", {k.state(), k.overrun(), k.meta()});
  for (const OverrunNotice& n : notices) {
    call.Arg(n.lease.id).Token(n.lease.token).Arg(std::max<int64_t>(n.timeout_ms, 0));
  }
  return call.Take();
}

Command ExtendCommand(const QueueKeys& k, std::span<const Lease> leases,
                      std::chrono::milliseconds lease) {
  ScriptCall call("extend", {k.active(), k.state()});
  call.Arg(k.base()).Arg(static_cast<int64_t>(lease.count()));
  for (const Lease& l : leases) call.Arg(l.id).Token(l.token);
  return call.Take();
}

Command ClaimCommand(const QueueKeys& k, int32_t max_jobs, std::chrono::milliseconds lease,
                     std::string_view receipt = {}) {
  ScriptCall call("claim", {k.wait(), k.prioritized(), k.delayed(), k.retry(), k.active(), k.meta(),
                            k.state(), k.rate_window()});
  call.Arg(k.base()).Arg(std::clamp(max_jobs, 1, kMaxClaim));
  call.Arg(static_cast<int64_t>(lease.count())).Arg(kPromoteLimit);
  if (!receipt.empty()) call.Arg(receipt);
  return call.Take();
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
  // State record "st:a:s:ts:tf:p:tk:cx" (src/broker/lua/include/state.lua).
  std::optional<JobState> state;
  std::string_view token;  // of the lease it holds, if active
  if (!v[1].is_nil()) {
    std::vector<std::string_view> parts;
    std::string_view record = v[1].str();
    for (size_t start = 0;;) {
      size_t colon = record.find(':', start);
      parts.push_back(record.substr(start, colon - start));
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (parts.size() != 8) return Internal("get_job: bad state record");
    auto number = [](std::string_view text) {
      int64_t n = 0;
      std::from_chars(text.data(), text.data() + text.size(), n);
      return n;
    };
    if (!parts[0].empty()) state = StateFromField(parts[0]);
    job.attempts = static_cast<int32_t>(number(parts[1]));
    job.stalls = static_cast<int32_t>(number(parts[2]));
    job.started_ms = number(parts[3]);
    job.finished_ms = number(parts[4]);
    token = parts[6];
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
  if (v.size() < 1 || (v.size() - 1) % 3 != 0) return Internal("schedule_list: bad reply");
  ScheduleSnapshot out;
  out.now_ms = v[0].AsInt();
  for (size_t i = 1; i < v.size(); i += 3) {
    ScheduleRecord record;
    record.id = std::string(v[i].str());
    record.definition_json = std::string(v[i + 1].str());
    // A definition without a readable record is shown as ended; saving it again repairs it.
    if (!ParseScheduleState(v[i + 2].str(), &record)) record.next_fire_ms = -1;
    out.schedules.push_back(std::move(record));
  }
  return out;
}

class RedisBroker final : public Broker {
 public:
  RedisBroker(RedisEndpoint endpoint, std::string prefix)
      : endpoint_(std::move(endpoint)), prefix_(std::move(prefix)), schedule_keys_(prefix_) {}

  Status CheckServer() override {
    auto reply = Run(Command{"CONFIG", "GET", "maxmemory-policy"});
    if (!reply.ok()) return reply.status();
    ReplyView v = reply->view();
    // Managed Redis services may refuse CONFIG; then there is nothing to check.
    if (v.is_error() || v.size() != 2) return Status::Ok();
    if (v[1].str() != "noeviction") {
      return Status(StatusCode::kFailedPrecondition,
                    "Redis at " + endpoint_.Describe() + " has maxmemory-policy " +
                        std::string(v[1].str()) +
                        "; taskq needs noeviction, or Redis may silently evict jobs. Run "
                        "`CONFIG SET maxmemory-policy noeviction` (and set it in redis.conf).");
    }
    return Status::Ok();
  }

  // Priority 0, no delay, no group, not unique: three script arguments per job in enqueue.lua,
  // and a single one goes by enqueue_one.lua.
  static bool IsPlain(const NewJob& job) {
    return job.priority == 0 && job.delay_ms == 0 && job.run_at_ms < 0 && job.group.empty() &&
           !job.unique;
  }

  static Command EnqueueCall(const QueueKeys& k, std::span<const NewJob> jobs) {
    ScriptCall call("enqueue", {k.wait(), k.prioritized(), k.delayed(), k.meta(), k.state()});
    call.Arg(k.base()).Arg(static_cast<int64_t>(jobs.size()));
    for (const NewJob& job : jobs) {
      call.Arg(job.id).Arg(job.body);
      if (IsPlain(job)) {
        call.Arg(std::string_view());  // a plain job: see enqueue.lua
      } else {
        std::string options = std::to_string(job.priority) + ":" + std::to_string(job.delay_ms) +
                              ":" + std::to_string(job.run_at_ms);
        if (!job.group.empty()) options += ":" + job.group;
        if (job.unique) {
          options += '|';
          options += UniqueModeName(job.unique->mode);
          options += ':' + std::to_string(job.unique->ttl.count()) + ':' + job.unique->key;
        }
        call.Arg(options);
      }
    }
    return call.Take();
  }

  Result<std::vector<EnqueueReply>> Enqueue(const std::string& queue,
                                            std::span<const NewJob> jobs) override {
    auto out = EnqueueOnMaster(queue, jobs);
    if (!out.ok() || jobs.empty()) return out;
    TASKQ_RETURN_IF_ERROR(WaitForReplicas());
    return out;
  }

  // Enqueue without waiting for the replicas: an import waits once, after its last batch.
  Result<std::vector<EnqueueReply>> EnqueueOnMaster(const std::string& queue,
                                                    std::span<const NewJob> jobs) {
    if (jobs.empty()) return std::vector<EnqueueReply>();
    const QueueKeys& k = Keys(queue);
    const auto now = std::chrono::steady_clock::now();
    auto general = general_enqueue_until_.find(queue);
    const bool known_general = general != general_enqueue_until_.end() && now < general->second;
    if (jobs.size() == 1 && IsPlain(jobs[0]) && !known_general) {
      ScriptCall one("enqueue_one", {k.wait(), k.meta()});
      one.Arg(k.base()).Arg(jobs[0].id).Arg(jobs[0].body);
      auto reply = RunScript(one.Take());
      if (!reply.ok()) return reply.status();
      TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "enqueue"));
      const long long outcome = reply->view().AsInt(-1);
      if (outcome >= 0) {
        return std::vector<EnqueueReply>{
            {outcome == 1 ? EnqueueOutcome::kWaiting : EnqueueOutcome::kExisted, {}}};
      }
      // The queue groups by a data field or ages priorities: enqueue.lua, and for a while its
      // single jobs go straight there (a stale memo only costs this extra round trip again).
      general_enqueue_until_[queue] = now + std::chrono::seconds(10);
    }
    // One script call however many jobs: the whole bulk is one atomic step (enqueue.lua sends
    // long argument lists to Redis in parts, parts.lua).
    auto reply = RunScript(EnqueueCall(k, jobs));
    if (!reply.ok()) return reply.status();
    return ParseEnqueueReply(*reply, jobs.size());
  }

  static Result<std::vector<EnqueueReply>> ParseEnqueueReply(const Reply& reply, size_t jobs) {
    TASKQ_RETURN_IF_ERROR(ReplyError(reply, "enqueue"));
    ReplyView v = reply.view();
    std::vector<EnqueueReply> out;
    out.reserve(jobs);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_string()) {
        out.push_back({EnqueueOutcome::kUniqueHeld, std::string(v[i].str())});  // the holder
      } else {
        out.push_back({static_cast<EnqueueOutcome>(v[i].AsInt()), {}});
      }
    }
    if (out.size() != jobs) return Internal("enqueue: bad reply size");
    return out;
  }

  Status EnqueueBatches(const NextBatch& next, const BatchDone& done) override {
    auto first = next();
    if (!first.ok()) return first.status();
    if (!*first) return Status::Ok();
    // The first batch the usual way: it connects, and loads the scripts if Redis lost them
    // (NOSCRIPT), so the batches streamed after it find them.
    auto replies = EnqueueOnMaster((*first)->queue, (*first)->jobs);
    if (!replies.ok()) return replies.status();
    done(*replies);
    // Then batch i is made and sent before the reply to batch i - 1 is read, so Redis finds it
    // waiting when it finishes i - 1, while the caller makes i + 1. (Sending it only after that
    // reply leaves Redis idle about 1 us a job here, waiting for the reply to travel and the
    // batch to arrive.)
    std::optional<QueueBatch> in_flight;
    while (true) {
      auto batch = next();
      std::optional<QueueBatch> sending;
      if (batch.ok() && *batch) {
        sending = std::move(*batch);
        Status sent = connection_->Send(EnqueueCall(Keys(sending->queue), sending->jobs));
        if (!sent.ok()) return sent;  // the connection is broken: in_flight's fate is unknown
      }
      if (in_flight) {
        auto reply = connection_->Receive();
        auto parsed = reply.ok() ? ParseEnqueueReply(*reply, in_flight->jobs.size())
                                 : Result<std::vector<EnqueueReply>>(reply.status());
        if (!parsed.ok()) {
          // The reply to `sending` must not reach the connection's next caller.
          if (sending) connection_->Abandon();
          return parsed.status();
        }
        done(*parsed);
      }
      if (!batch.ok()) return batch.status();
      if (!sending) break;
      in_flight = std::move(sending);
    }
    return WaitForReplicas();
  }

  // With ?wait_replicas=N an enqueue is acknowledged only once N replicas have it (WAIT also
  // covers an existing job: what the caller saw must survive a failover too). Otherwise the jobs
  // are written on the master but the caller hears Unavailable: retrying may enqueue them twice
  // (at least once), never lose them.
  Status WaitForReplicas() {
    if (endpoint_.wait_replicas == 0) return Status::Ok();
    auto reply = Run(Command{"WAIT"}
                         .Add(static_cast<long long>(endpoint_.wait_replicas))
                         .Add(static_cast<long long>(endpoint_.wait_timeout.count())));
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "WAIT"));
    const long long acked = reply->view().AsInt();
    if (acked >= endpoint_.wait_replicas) return Status::Ok();
    return Unavailable("the jobs are written, but only " + std::to_string(acked) + " of " +
                       std::to_string(endpoint_.wait_replicas) + " replicas had them after " +
                       std::to_string(endpoint_.wait_timeout.count()) +
                       " ms (wait_replicas): a failover now could lose them");
  }

  Result<ClaimResult> Claim(const std::string& queue, int32_t max_jobs,
                            std::chrono::milliseconds lease) override {
    auto reply = RunScript(ClaimCommand(Keys(queue), max_jobs, lease));
    if (!reply.ok()) return reply.status();
    return ParseClaim(*reply);
  }

  Result<std::vector<bool>> Complete(const std::string& queue,
                                     std::span<const Completion> completions,
                                     const FinishPolicy& policy) override {
    if (completions.empty()) return std::vector<bool>();
    auto reply = RunScript(CompleteCommand(Keys(queue), completions, policy.keep_completed));
    if (!reply.ok()) return reply.status();
    return ParseFlagsReply(*reply, "complete", completions.size());
  }

  Result<std::vector<bool>> Fail(const std::string& queue, std::span<const Failure> failures,
                                 const FinishPolicy& policy) override {
    if (failures.empty()) return std::vector<bool>();
    auto reply = RunScript(FailCommand(Keys(queue), failures, policy));
    if (!reply.ok()) return reply.status();
    return ParseFlagsReply(*reply, "fail", failures.size());
  }

  Result<std::vector<bool>> Postpone(const std::string& queue,
                                     std::span<const Postponement> postponements,
                                     int32_t max_log_lines) override {
    if (postponements.empty()) return std::vector<bool>();
    auto reply = RunScript(PostponeCommand(Keys(queue), postponements, max_log_lines));
    if (!reply.ok()) return reply.status();
    return ParseFlagsReply(*reply, "postpone", postponements.size());
  }

  Result<ExtendResult> ExtendLeases(const std::string& queue, std::span<const Lease> leases,
                                    std::chrono::milliseconds lease) override {
    if (leases.empty()) return ExtendResult{};
    auto reply = RunScript(ExtendCommand(Keys(queue), leases, lease));
    if (!reply.ok()) return reply.status();
    return ParseExtend(*reply);
  }

  Result<FlushResult> Flush(const std::string& queue, const FlushRequest& request) override {
    const QueueKeys& k = Keys(queue);
    std::vector<Command> commands;
    if (!request.overruns.empty()) commands.push_back(OverrunCommand(k, request.overruns));
    // Progress first: it is refused once the job it belongs to has finished.
    if (!request.progress.empty()) {
      commands.push_back(ProgressCommand(k, request.progress, request.policy.max_log_lines));
    }
    if (!request.completions.empty()) {
      commands.push_back(CompleteCommand(k, request.completions, request.policy.keep_completed));
    }
    if (!request.failures.empty()) {
      commands.push_back(FailCommand(k, request.failures, request.policy));
    }
    if (!request.postponements.empty()) {
      commands.push_back(PostponeCommand(k, request.postponements, request.policy.max_log_lines));
    }
    if (!request.extend.empty())
      commands.push_back(ExtendCommand(k, request.extend, request.lease));
    if (request.claim > 0)
      commands.push_back(ClaimCommand(k, request.claim, request.lease, request.claim_receipt));
    FlushResult out;
    if (commands.empty()) return out;
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunScripts(commands, &replies));
    size_t r = 0;
    if (!request.overruns.empty()) {
      auto flags = ParseFlagsReply(replies[r++], "overrun", request.overruns.size());
      if (flags.ok())
        out.overrun = std::move(*flags);
      else
        out.overruns_error = flags.status();
    }
    if (!request.progress.empty()) out.progress_error = ReplyError(replies[r++], "progress");
    if (!request.completions.empty()) {
      auto flags = ParseFlagsReply(replies[r++], "complete", request.completions.size());
      if (flags.ok())
        out.completed = std::move(*flags);
      else
        out.completions_error = flags.status();
    }
    if (!request.failures.empty()) {
      auto flags = ParseFlagsReply(replies[r++], "fail", request.failures.size());
      if (flags.ok())
        out.failed = std::move(*flags);
      else
        out.failures_error = flags.status();
    }
    if (!request.postponements.empty()) {
      auto flags = ParseFlagsReply(replies[r++], "postpone", request.postponements.size());
      if (flags.ok())
        out.postponed = std::move(*flags);
      else
        out.postponements_error = flags.status();
    }
    if (!request.extend.empty()) {
      auto extend = ParseExtend(replies[r++]);
      if (extend.ok())
        out.extend = std::move(*extend);
      else
        out.extend_error = extend.status();
    }
    if (request.claim > 0) {
      auto claim = ParseClaim(replies[r++]);
      if (claim.ok())
        out.claim = std::move(*claim);
      else
        out.claim_error = claim.status();
    }
    return out;
  }

  Result<RecoverResult> RecoverExpired(const std::string& queue, int32_t max_stalls, int32_t limit,
                                       const FinishPolicy& policy) override {
    const QueueKeys& k = Keys(queue);
    ScriptCall call("recover",
                    {k.active(), k.wait(), k.prioritized(), k.dead(), k.meta(), k.state()});
    call.Arg(k.base()).Arg(max_stalls).Arg(limit).Arg(policy.max_errors_kept);
    call.Arg(policy.keep_dead.count).Arg(static_cast<int64_t>(policy.keep_dead.age.count()));
    auto reply = RunScript(call.Take());
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "recover"));
    ReplyView v = reply->view();
    if (v.size() != 2) return Internal("recover: bad reply");
    return RecoverResult{v[0].AsInt(), v[1].AsInt()};
  }

  Result<int64_t> Release(const std::string& queue, std::span<const Lease> leases) override {
    if (leases.empty()) return int64_t{0};
    const QueueKeys& k = Keys(queue);
    ScriptCall call("release", {k.active(), k.wait(), k.prioritized(), k.meta(), k.state()});
    call.Arg(k.base());
    for (const Lease& l : leases) call.Arg(l.id).Token(l.token);
    return RunIntScript(call.Take(), "release");
  }

  Result<int64_t> ReleaseLostClaim(const std::string& queue, const std::string& receipt) override {
    const QueueKeys& k = Keys(queue);
    ScriptCall call("lost_claim", {k.active(), k.state()});
    call.Arg(k.base()).Arg(receipt);
    auto reply = RunScript(call.Take());
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "lost_claim"));
    ReplyView v = reply->view();
    if (v.size() < 2) return int64_t{0};
    const std::optional<int64_t> token = ParseTokenText(v[0].str());
    if (!token) return Internal("lost_claim: bad token");
    std::vector<Lease> leases;
    for (size_t i = 1; i < v.size(); ++i) leases.push_back({std::string(v[i].str()), *token});
    return Release(queue, leases);
  }

  Result<bool> Promote(const std::string& queue, const std::string& id) override {
    const QueueKeys& k = Keys(queue);
    ScriptCall call("promote",
                    {k.delayed(), k.retry(), k.wait(), k.prioritized(), k.meta(), k.state()});
    call.Arg(k.base()).Arg(id);
    auto n = RunIntScript(call.Take(), "promote");
    if (!n.ok()) return n.status();
    return *n == 1;
  }

  Result<RemoveOutcome> Remove(const std::string& queue, const std::string& id,
                               RemoveMode mode) override {
    const QueueKeys& k = Keys(queue);
    ScriptCall call("remove", {k.wait(), k.prioritized(), k.delayed(), k.retry(), k.active(),
                               k.completed(), k.dead(), k.state()});
    call.Arg(k.base()).Arg(id).Arg(mode == RemoveMode::kCancel ? "cancel" : "remove");
    auto n = RunIntScript(call.Take(), "remove");
    if (!n.ok()) return n.status();
    switch (*n) {
      case 1:
        return RemoveOutcome::kRemoved;
      case 2:
        return RemoveOutcome::kStopRequested;
      case -1:
        return RemoveOutcome::kRefused;
      default:
        return RemoveOutcome::kNotFound;
    }
  }

  Result<int64_t> RetryDead(const std::string& queue, std::span<const std::string> ids,
                            int32_t limit) override {
    const QueueKeys& k = Keys(queue);
    ScriptCall call("retry_dead", {k.dead(), k.wait(), k.prioritized(), k.meta(), k.state()});
    call.Arg(k.base()).Arg(std::clamp(limit, 1, 1000));
    for (const std::string& id : ids) call.Arg(id);
    return RunIntScript(call.Take(), "retry_dead");
  }

  Result<bool> SetPaused(const std::string& queue, bool paused) override {
    const QueueKeys& k = Keys(queue);
    ScriptCall call("pause", {k.meta()});
    call.Arg(k.base()).Arg(paused ? "1" : "0");
    auto n = RunIntScript(call.Take(), "pause");
    if (!n.ok()) return n.status();
    return *n == 1;
  }

  Status SetLimits(const std::string& queue, const QueueLimits& limits) override {
    TASKQ_RETURN_IF_ERROR(RegisterQueue(queue));  // listed (and shown) before its first job
    const QueueKeys& k = Keys(queue);
    ScriptCall call("queue_limits", {k.meta(), k.rate_window()});
    call.Arg(k.base()).Arg(limits.rate.max).Arg(static_cast<int64_t>(limits.rate.window.count()));
    call.Arg(limits.concurrency).Arg(limits.group_rate.max);
    call.Arg(static_cast<int64_t>(limits.group_rate.window.count()));
    call.Arg(limits.group_concurrency).Arg(limits.group_field);
    call.Arg(static_cast<int64_t>(limits.priority_aging.count()));
    return RunIntScript(call.Take(), "queue_limits").status();
  }

  Result<QueueLimits> GetLimits(const std::string& queue) override {
    auto reply = Run(Command{"HMGET", Keys(queue).meta(), "rl", "cc", "grl", "gcc", "gf", "ag"});
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "limits"));
    ReplyView v = reply->view();
    if (v.size() != 6) return Internal("limits: bad reply");
    // A rate is "max:window_ms", as queue_limits.lua writes it.
    auto rate = [](ReplyView field) {
      RateLimit out;
      if (field.is_nil()) return out;
      std::string_view text = field.str();
      size_t colon = text.find(':');
      if (colon == std::string_view::npos) return out;  // not written by queue_limits.lua
      int64_t window = 0;
      std::from_chars(text.data(), text.data() + colon, out.max);
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), window);
      out.window = std::chrono::milliseconds(window);
      return out;
    };
    QueueLimits limits;
    limits.rate = rate(v[0]);
    if (!v[1].is_nil()) limits.concurrency = static_cast<int32_t>(v[1].AsInt());
    limits.group_rate = rate(v[2]);
    if (!v[3].is_nil()) limits.group_concurrency = static_cast<int32_t>(v[3].AsInt());
    if (!v[4].is_nil()) limits.group_field = std::string(v[4].str());
    if (!v[5].is_nil()) limits.priority_aging = std::chrono::milliseconds(v[5].AsInt());
    return limits;
  }

  Result<int64_t> Clean(const std::string& queue, JobState state,
                        std::chrono::milliseconds older_than, int32_t limit) override {
    const QueueKeys& k = Keys(queue);
    if (state != JobState::kCompleted && state != JobState::kDead) {
      return InvalidArgument("state", "clean applies to completed and dead jobs");
    }
    ScriptCall call("clean", {state == JobState::kCompleted ? k.completed() : k.dead()});
    call.Arg(k.base()).Arg(static_cast<int64_t>(older_than.count()));
    call.Arg(std::clamp(limit, 1, 10000));
    return RunIntScript(call.Take(), "clean");
  }

  Result<std::optional<Job>> GetJob(const std::string& queue, const std::string& id) override {
    auto reply = RunScript(GetJobCommand(Keys(queue), id));
    if (!reply.ok()) return reply.status();
    return ParseJob(queue, id, *reply);
  }

  static constexpr int kGroupsForOldest = 8;  // ring turns read for the oldest waiting job

  Result<QueueCounts> Counts(const std::string& queue) override {
    const QueueKeys& k = Keys(queue);
    std::vector<Command> commands = {
        {"LLEN", k.wait()},
        {"ZCARD", k.prioritized()},
        {"ZCARD", k.delayed()},
        {"ZCARD", k.active()},
        {"ZCARD", k.completed()},
        {"ZCARD", k.retry()},
        {"ZCARD", k.dead()},
        {"HMGET", k.meta(), "paused", "completed", "failed", "stalled", "gwaiting", "overran"},
        {"LINDEX", k.wait(), "0"},
        {"ZRANGE", k.prioritized(), "0", "0"},
        {"TIME"},
        // the groups whose turns come next (empty: the ungrouped jobs' turn)
        {"LRANGE", k.group_ring(), "0", std::to_string(kGroupsForOldest - 1)},
        {"HLEN", k.overrun()}};
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunCommands(commands, &replies));
    for (const Reply& r : replies) TASKQ_RETURN_IF_ERROR(ReplyError(r, "counts"));
    QueueCounts c;
    c.waiting = replies[0].view().AsInt() + replies[1].view().AsInt();
    c.delayed = replies[2].view().AsInt();
    c.active = replies[3].view().AsInt();
    c.completed = replies[4].view().AsInt();
    c.retrying = replies[5].view().AsInt();
    c.dead = replies[6].view().AsInt();
    ReplyView meta = replies[7].view();
    c.paused = meta[0].str() == "1";
    c.completed_total = meta[1].AsInt();
    c.failed_total = meta[2].AsInt();
    c.stalled_total = meta[3].AsInt();
    c.waiting += meta[4].AsInt();  // grouped jobs wait in their groups' zsets (requeue.lua)
    c.overran_total = meta[5].AsInt();
    c.overrunning = replies[12].view().AsInt();
    ReplyView time = replies[10].view();
    c.now_ms = time[0].AsInt() * 1000 + time[1].AsInt() / 1000;
    // The heads' bodies begin {"c":<created ms>, (enqueue.lua): read the oldest of them.
    std::vector<Command> heads;
    if (!replies[8].view().is_nil()) heads.push_back({"HGET", k.jobs(), replies[8].view().str()});
    if (replies[9].view().size() == 1)
      heads.push_back({"HGET", k.jobs(), replies[9].view()[0].str()});
    // Grouped jobs wait in their groups' zsets: the heads of the groups next on the ring run
    // next (one more round trip, only when grouped jobs wait).
    if (meta[4].AsInt() > 0) {
      std::vector<Command> group_heads;
      const ReplyView ring = replies[11].view();
      for (size_t i = 0; i < ring.size(); ++i) {
        if (!ring[i].str().empty()) {
          group_heads.push_back({"ZRANGE", k.group_waiting(ring[i].str()), "0", "0"});
        }
      }
      std::vector<Reply> group_replies;
      if (!group_heads.empty()) TASKQ_RETURN_IF_ERROR(RunCommands(group_heads, &group_replies));
      for (const Reply& head : group_replies) {
        if (head.view().size() == 1) heads.push_back({"HGET", k.jobs(), head.view()[0].str()});
      }
    }
    if (!heads.empty()) {
      std::vector<Reply> bodies;
      TASKQ_RETURN_IF_ERROR(RunCommands(heads, &bodies));
      for (const Reply& body : bodies) {
        std::string_view text = body.view().is_string() ? body.view().str() : "";
        if (!text.starts_with("{\"c\":")) continue;
        int64_t created = 0;
        for (size_t i = 5; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
          created = created * 10 + (text[i] - '0');
        }
        if (c.oldest_waiting_created_ms == 0 || created < c.oldest_waiting_created_ms) {
          c.oldest_waiting_created_ms = created;
        }
      }
    }
    return c;
  }

  Result<std::vector<std::optional<Job>>> ListJobs(const std::string& queue, JobState state,
                                                   int64_t offset, int64_t limit,
                                                   ListOrder order) override {
    if (offset < 0 || limit < 1 || limit > 1000) {
      return InvalidArgument("limit", "must be in [1, 1000] with offset >= 0");
    }
    auto ids = ListIds(Keys(queue), state, offset, limit, order == ListOrder::kReversed);
    if (!ids.ok()) return ids.status();
    std::vector<Command> commands;
    for (const std::string& id : *ids) commands.push_back(GetJobCommand(Keys(queue), id));
    std::vector<Reply> replies;
    if (!commands.empty()) TASKQ_RETURN_IF_ERROR(RunScripts(commands, &replies));
    std::vector<std::optional<Job>> jobs;
    for (size_t i = 0; i < replies.size(); ++i) {
      auto job = ParseJob(queue, (*ids)[i], replies[i]);
      if (!job.ok()) return job.status();
      jobs.push_back(std::move(*job));
    }
    return jobs;
  }

  Result<std::vector<std::string>> Queues() override {
    auto reply = Run(Command{"SMEMBERS", QueueRegistryKey(prefix_)});
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "queues"));
    auto names = ParseStrings(reply->view());
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<std::vector<JobEvent>> ReadEvents(std::span<EventCursor> cursors,
                                           std::chrono::milliseconds block,
                                           int32_t max_events) override {
    std::vector<JobEvent> out;
    if (cursors.empty()) return out;
    // A cursor "from now" starts at the stream's last entry (or its beginning, when there is no
    // stream yet), so that nothing recorded between two reads is missed.
    std::vector<Command> heads;
    std::vector<size_t> starting;
    for (size_t i = 0; i < cursors.size(); ++i) {
      if (!cursors[i].last_id.empty()) continue;
      heads.push_back({"XREVRANGE", Keys(cursors[i].queue).events(), "+", "-", "COUNT", "1"});
      starting.push_back(i);
    }
    if (!heads.empty()) {
      std::vector<Reply> replies;
      TASKQ_RETURN_IF_ERROR(RunCommands(heads, &replies));
      for (size_t j = 0; j < starting.size(); ++j) {
        TASKQ_RETURN_IF_ERROR(ReplyError(replies[j], "XREVRANGE"));
        ReplyView last = replies[j].view();
        cursors[starting[j]].last_id =
            last.size() > 0 && last[0].size() > 0 ? std::string(last[0][0].str()) : "0-0";
      }
    }
    Command xread{"XREAD", "COUNT"};
    xread.Add(static_cast<long long>(std::max(1, max_events)));
    if (block.count() > 0) xread.Add("BLOCK").Add(static_cast<long long>(block.count()));
    xread.Add("STREAMS");
    for (const EventCursor& c : cursors) xread.Add(Keys(c.queue).events());
    for (const EventCursor& c : cursors) xread.Add(c.last_id);
    auto reply = Run(xread);
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "XREAD"));
    const ReplyView streams = reply->view();  // nil when the block timed out
    for (size_t s = 0; s < streams.size(); ++s) {
      const std::string_view key = streams[s][0].str();
      EventCursor* cursor = nullptr;
      for (EventCursor& c : cursors) {
        if (Keys(c.queue).events() == key) cursor = &c;
      }
      if (!cursor) continue;
      const ReplyView entries = streams[s][1];
      for (size_t e = 0; e < entries.size(); ++e) {
        JobEvent event;
        event.queue = cursor->queue;
        event.stream_id = std::string(entries[e][0].str());
        const ReplyView fields = entries[e][1];
        for (size_t f = 0; f + 1 < fields.size(); f += 2) {
          const std::string_view name = fields[f].str(), value = fields[f + 1].str();
          if (name == "e") event.kind = std::string(value);
          if (name == "n") event.count = fields[f + 1].AsInt();
          if (name != "ids") continue;
          for (std::string_view id : SplitList(value)) event.job_ids.emplace_back(id);
        }
        cursor->last_id = event.stream_id;
        out.push_back(std::move(event));
      }
    }
    return out;
  }

  Status RegisterQueue(const std::string& queue) override {
    auto reply = Run(Command{"SADD", QueueRegistryKey(prefix_), queue});
    if (!reply.ok()) return reply.status();
    return ReplyError(*reply, "register queue");
  }

  Status WorkerHeartbeat(const std::string& worker_id, const std::string& info_json,
                         std::chrono::milliseconds sweep_after) override {
    const std::string registry = WorkerRegistryKey(prefix_);
    ScriptCall call("worker_heartbeat", {registry, registry + ":sweep"});
    call.Arg(worker_id).Arg(info_json).Arg(static_cast<int64_t>(sweep_after.count()));
    auto n = RunIntScript(call.Take(), "worker_heartbeat");
    return n.ok() ? Status::Ok() : n.status();
  }

  Result<ScheduleSaveResult> SaveSchedule(const ScheduleSave& save) override {
    const ScheduleKeys& k = schedule_keys_;
    ScriptCall call("schedule_save", {k.definitions(), k.state(), k.due()});
    call.Arg(save.id).Arg(save.definition_json).Arg(save.create_only ? "create" : "upsert");
    call.Arg(save.next_fire_ms);
    call.Arg(save.paused ? (*save.paused ? "1" : "0") : "").Arg(save.max_runs);
    if (save.created_ms >= 0) {
      call.Arg(save.created_ms);
    } else {
      call.Arg(std::string_view());
    }
    auto reply = RunScript(call.Take());
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

  Result<bool> RemoveSchedule(const std::string& id) override {
    const ScheduleKeys& k = schedule_keys_;
    ScriptCall call("schedule_remove", {k.definitions(), k.state(), k.due()});
    call.Arg(id);
    auto n = RunIntScript(call.Take(), "schedule_remove");
    if (!n.ok()) return n.status();
    return *n == 1;
  }

  Result<ScheduleSnapshot> ListSchedules() override { return RunScheduleList("all", 1, {}); }

  Result<ScheduleSnapshot> GetSchedules(std::span<const std::string> ids) override {
    return RunScheduleList("ids", 1, ids);
  }

  Result<ScheduleSnapshot> DueSchedules(int32_t limit) override {
    return RunScheduleList("due", std::clamp(limit, 1, 10000), {});
  }

  Result<bool> SetSchedulePaused(const std::string& id, bool paused,
                                 int64_t next_fire_ms) override {
    const ScheduleKeys& k = schedule_keys_;
    ScriptCall call("schedule_pause", {k.definitions(), k.state(), k.due()});
    call.Arg(id).Arg(paused ? "1" : "0");
    if (paused) {
      call.Arg(std::string_view());
    } else {
      call.Arg(next_fire_ms);
    }
    auto n = RunIntScript(call.Take(), "schedule_pause");
    if (!n.ok()) return n.status();
    if (*n < 0) return Status(StatusCode::kNotFound, "no schedule with id '" + id + "'", "id");
    return *n == 1;
  }

  Result<bool> AdvanceSchedule(const ScheduleAdvance& a) override {
    const ScheduleKeys& k = schedule_keys_;
    ScriptCall call("schedule_advance", {k.definitions(), k.state(), k.due()});
    call.Arg(a.id).Arg(a.revision).Arg(a.expected_next_ms).Arg(a.next_ms).Arg(a.runs_added);
    call.Arg(a.last_fire_ms).Arg(a.last_job_id);
    auto n = RunIntScript(call.Take(), "schedule_advance");
    if (!n.ok()) return n.status();
    return *n == 1;
  }

  Result<bool> HoldSchedulerLease(const std::string& token,
                                  std::chrono::milliseconds lease) override {
    ScriptCall call("scheduler_lease", {schedule_keys_.leader()});
    call.Arg(token).Arg(static_cast<int64_t>(lease.count()));
    auto n = RunIntScript(call.Take(), "scheduler_lease");
    if (!n.ok()) return n.status();
    return *n == 1;
  }

  Status AddMetrics(
      const std::vector<std::pair<std::string, CounterIncrements>>& per_queue) override {
    std::vector<Command> commands;
    for (const auto& [queue, increments] : per_queue) {
      for (const auto& [field, n] : increments) {
        commands.push_back(
            Command{"HINCRBY", Keys(queue).metrics(), field}.Add(static_cast<long long>(n)));
      }
    }
    if (commands.empty()) return Status::Ok();
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunCommands(commands, &replies));
    for (const Reply& r : replies) TASKQ_RETURN_IF_ERROR(ReplyError(r, "metrics"));
    return Status::Ok();
  }

  Result<CounterIncrements> ReadMetrics(const std::string& queue) override {
    auto reply = Run(Command{"HGETALL", Keys(queue).metrics()});
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "metrics"));
    CounterIncrements out;
    ReplyView v = reply->view();
    for (size_t i = 0; i + 1 < v.size(); i += 2) {
      out.emplace_back(std::string(v[i].str()), v[i + 1].AsInt());
    }
    return out;
  }

  Result<WorkerList> ListWorkers(std::chrono::milliseconds max_age) override {
    ScriptCall call("worker_list", {WorkerRegistryKey(prefix_)});
    call.Arg(static_cast<int64_t>(max_age.count()));
    auto reply = RunScript(call.Take());
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

 private:
  const QueueKeys& Keys(const std::string& queue) {
    auto it = keys_.find(queue);
    if (it == keys_.end()) it = keys_.emplace(queue, QueueKeys(prefix_, queue)).first;
    return it->second;
  }

  Result<ScheduleSnapshot> RunScheduleList(std::string_view what, int32_t limit,
                                           std::span<const std::string> ids) {
    const ScheduleKeys& k = schedule_keys_;
    ScriptCall call("schedule_list", {k.definitions(), k.state(), k.due()});
    call.Arg(what).Arg(limit);
    for (const std::string& id : ids) call.Arg(id);
    auto reply = RunScript(call.Take());
    if (!reply.ok()) return reply.status();
    return ParseScheduleList(*reply);
  }

  Command GetJobCommand(const QueueKeys& k, const std::string& id) {
    ScriptCall call("get_job", {k.delayed(), k.retry(), k.state(), k.results(), k.progress()});
    call.Arg(k.base()).Arg(id);
    return call.Take();
  }

  // A part of a listing: `size` ids, read by index range (first and last within the part).
  struct ListPart {
    int64_t size = 0;
    std::function<Command(int64_t first, int64_t last)> range;
    bool backwards = false;  // the range reads the part's ids in the opposite order
  };

  // The ids from `offset` (at most `limit`) of one state, as ListJobs orders them. Every part is
  // an index range: O(log n + page) on a zset, O(distance from the nearer end + page) on the
  // wait list, so a page costs the same near either end of a state of a million jobs.
  Result<std::vector<std::string>> ListIds(const QueueKeys& k, JobState state, int64_t offset,
                                           int64_t limit, bool reversed) {
    auto zset = [&](const std::string& key, bool newest_first) {
      return ReadParts({{std::numeric_limits<int64_t>::max(),
                         [&key, rev = newest_first != reversed](int64_t first, int64_t last) {
                           Command c{rev ? "ZREVRANGE" : "ZRANGE", key};
                           return c.Add(first).Add(last);
                         }}},
                       offset, limit);
    };
    switch (state) {
      case JobState::kDelayed:
        return zset(k.delayed(), false);
      case JobState::kRetrying:
        return zset(k.retry(), false);
      case JobState::kActive:
        return zset(k.active(), false);
      case JobState::kCompleted:
        return zset(k.completed(), true);
      case JobState::kDead:
        return zset(k.dead(), true);
      case JobState::kWaiting:
        break;
    }
    // Run order: negative priorities (prio), priority 0 (the wait list), positive priorities
    // (prio), then the grouped jobs (group_page.lua). Reversed: the same parts, each backwards,
    // in the opposite order.
    std::vector<Command> sizes = {{"ZCOUNT", k.prioritized(), "-inf", "(0"},
                                  {"LLEN", k.wait()},
                                  {"ZCARD", k.prioritized()},
                                  {"HGET", k.meta(), "gwaiting"}};
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunCommands(sizes, &replies));
    for (const Reply& r : replies) TASKQ_RETURN_IF_ERROR(ReplyError(r, "list"));
    const int64_t n_neg = replies[0].view().AsInt();
    const int64_t n_list = replies[1].view().AsInt();
    const int64_t n_pos = replies[2].view().AsInt() - n_neg;
    const int64_t n_grouped = replies[3].view().AsInt();
    const char* zrange = reversed ? "ZREVRANGE" : "ZRANGE";
    auto prio = [&k, zrange](int64_t skip) {
      return [&k, zrange, skip](int64_t first, int64_t last) {
        Command c{zrange, k.prioritized()};
        return c.Add(skip + first).Add(skip + last);
      };
    };
    ListPart negatives{n_neg, prio(reversed ? n_pos : 0)};
    ListPart positives{n_pos, prio(reversed ? 0 : n_neg)};
    ListPart listed{n_list, [&k, reversed](int64_t first, int64_t last) {
                      Command c{"LRANGE", k.wait()};
                      // From the tail when reversed: -1 is the last job to run.
                      return reversed ? c.Add(-1 - last).Add(-1 - first) : c.Add(first).Add(last);
                    }};
    listed.backwards = reversed;
    ListPart grouped{reversed ? n_grouped : std::numeric_limits<int64_t>::max(),
                     [&k, reversed](int64_t first, int64_t last) {
                       ScriptCall call("group_page", {k.group_ring(), k.groups_held()});
                       call.Arg(k.base()).Arg(first).Arg(last - first + 1);
                       call.Arg(reversed ? "rev" : "");
                       return call.Take();
                     }};
    if (reversed) return ReadParts({grouped, positives, listed, negatives}, offset, limit);
    return ReadParts({negatives, listed, positives, grouped}, offset, limit);
  }

  // Reads positions [offset, offset + limit) of the parts laid end to end, in one round trip.
  Result<std::vector<std::string>> ReadParts(const std::vector<ListPart>& parts, int64_t offset,
                                             int64_t limit) {
    const int64_t last = offset + limit - 1;
    std::vector<Command> ranges;
    std::vector<bool> backwards;
    int64_t start = 0;  // the part's first position
    for (const ListPart& part : parts) {
      if (part.size > 0 && offset - start < part.size && last >= start) {
        const int64_t first = std::max<int64_t>(0, offset - start);
        ranges.push_back(part.range(first, std::min(last - start, part.size - 1)));
        backwards.push_back(part.backwards);
      }
      if (part.size > std::numeric_limits<int64_t>::max() - start) break;
      start += part.size;
    }
    std::vector<Reply> replies;
    if (!ranges.empty()) TASKQ_RETURN_IF_ERROR(RunScripts(ranges, &replies));
    std::vector<std::string> ids;
    for (size_t i = 0; i < replies.size(); ++i) {
      TASKQ_RETURN_IF_ERROR(ReplyError(replies[i], "list"));
      auto part = ParseStrings(replies[i].view());
      if (backwards[i]) std::reverse(part.begin(), part.end());
      ids.insert(ids.end(), part.begin(), part.end());
    }
    if (static_cast<int64_t>(ids.size()) > limit) ids.resize(limit);
    return ids;
  }

  Status EnsureConnected() {
    if (connection_ && connection_->CheckUsable()) return Status::Ok();
    connection_.reset();
    auto opened = RedisConnection::Open(endpoint_);
    if (!opened.ok()) return opened.status();
    connection_ = std::move(*opened);
    return Status::Ok();
  }

  Status RunCommands(std::span<const Command> commands, std::vector<Reply>* replies) {
    TASKQ_RETURN_IF_ERROR(EnsureConnected());
    return connection_->Pipeline(commands, replies);
  }

  Result<Reply> Run(const Command& command) {
    TASKQ_RETURN_IF_ERROR(EnsureConnected());
    return connection_->Run(command);
  }

  // Runs script calls in one round trip. Redis forgets scripts on restart (and SCRIPT FLUSH):
  // a NOSCRIPT reply means that call did not run, so the scripts are loaded and those calls alone
  // run again, in their order.
  Status RunScripts(std::span<const Command> commands, std::vector<Reply>* replies) {
    TASKQ_RETURN_IF_ERROR(RunCommands(commands, replies));
    std::vector<size_t> missing;
    for (size_t i = 0; i < replies->size(); ++i) {
      if ((*replies)[i].view().is_error() && (*replies)[i].view().str().starts_with("NOSCRIPT")) {
        missing.push_back(i);
      }
    }
    if (missing.empty()) return Status::Ok();
    TASKQ_RETURN_IF_ERROR(LoadScripts());
    std::vector<Command> again;
    for (size_t i : missing) again.push_back(commands[i]);
    std::vector<Reply> retried;
    TASKQ_RETURN_IF_ERROR(RunCommands(again, &retried));
    for (size_t j = 0; j < missing.size(); ++j) (*replies)[missing[j]] = std::move(retried[j]);
    return Status::Ok();
  }

  Result<Reply> RunScript(Command command) {
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunScripts(std::span<const Command>(&command, 1), &replies));
    return std::move(replies.front());
  }

  Result<int64_t> RunIntScript(Command command, std::string_view what) {
    auto reply = RunScript(std::move(command));
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, what));
    return static_cast<int64_t>(reply->view().AsInt());
  }

  Status LoadScripts() {
    std::vector<Command> loads;
    for (const ScriptSource& s : ActiveScripts()) loads.push_back({"SCRIPT", "LOAD", s.body});
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunCommands(loads, &replies));
    for (size_t i = 0; i < replies.size(); ++i) {
      TASKQ_RETURN_IF_ERROR(ReplyError(replies[i], "SCRIPT LOAD"));
      if (replies[i].view().str() != ActiveScripts()[i].sha1) {
        return Internal("SCRIPT LOAD returned an unexpected SHA1 for " +
                        std::string(ActiveScripts()[i].name));
      }
    }
    return Status::Ok();
  }

  const RedisEndpoint endpoint_;
  const std::string prefix_;
  const ScheduleKeys schedule_keys_;
  std::unique_ptr<RedisConnection> connection_;
  std::unordered_map<std::string, QueueKeys> keys_;
  // Queues whose single plain jobs enqueue_one.lua handed to enqueue.lua, until when to skip it.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> general_enqueue_until_;
};

class RedisWakeSubscription final : public WakeSubscription {
 public:
  RedisWakeSubscription(std::unique_ptr<RedisConnection> connection,
                        std::unordered_map<std::string, std::string> channel_to_queue)
      : connection_(std::move(connection)), channel_to_queue_(std::move(channel_to_queue)) {}

  Result<std::vector<std::string>> Wait(int interrupt_fd,
                                        std::chrono::milliseconds timeout) override {
    std::vector<std::string> woken;
    // Messages hiredis has read already do not make the socket readable: take them first (the
    // socket itself is polled below, once).
    TASKQ_RETURN_IF_ERROR(TakeReady(&woken, /*read_socket=*/false));
    if (!woken.empty()) return woken;
    // Through Sentinel, a failover that froze or cut off the old master leaves this socket open
    // and silent: wakes would then go to the new master unheard until TCP gives up. So the wait
    // is cut at the next master check, and a moved master ends the subscription (the caller
    // subscribes again, through the sentinels).
    if (!connection_->CheckUsable()) {
      return Unavailable("wake subscription: the master moved (Sentinel)");
    }
    const auto until_check = connection_->UntilMasterCheck();
    if (until_check < timeout) timeout = std::chrono::ceil<std::chrono::milliseconds>(until_check);
    pollfd fds[2] = {{connection_->fd(), POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    const auto ms = std::clamp<int64_t>(timeout.count(), 0, std::numeric_limits<int>::max());
    if (::poll(fds, 2, static_cast<int>(ms)) < 0 && errno != EINTR) {
      return Unavailable("wake subscription: poll failed");
    }
    if (fds[1].revents & POLLIN) {
      uint64_t signals = 0;
      if (::read(interrupt_fd, &signals, sizeof(signals)) < 0) {
        // EAGAIN: another reader took it; nothing is lost either way
      }
    }
    if (fds[0].revents != 0) TASKQ_RETURN_IF_ERROR(TakeReady(&woken));
    return woken;
  }

 private:
  Status TakeReady(std::vector<std::string>* woken, bool read_socket = true) {
    while (true) {
      auto reply = connection_->ReceiveIfReady(read_socket);
      if (!reply.ok()) return reply.status();
      if (!*reply) return Status::Ok();
      ReplyView v = (*reply)->view();
      if (v.size() == 3 && v[0].str() == "message") {
        auto it = channel_to_queue_.find(std::string(v[1].str()));
        if (it != channel_to_queue_.end()) woken->push_back(it->second);
      }
      // subscribe confirmations and unknown channels are skipped
    }
  }

  std::unique_ptr<RedisConnection> connection_;
  const std::unordered_map<std::string, std::string> channel_to_queue_;
};

}  // namespace

Result<std::unique_ptr<Broker>> OpenBroker(const BrokerOptions& options) {
  auto endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) return endpoint.status();
  TASKQ_RETURN_IF_ERROR(ValidateName("key_prefix", options.key_prefix));
  if (options.reply_timeout.count() > 0) {
    endpoint->connect_timeout = std::min(endpoint->connect_timeout, options.reply_timeout);
    endpoint->command_timeout = std::min(endpoint->command_timeout, options.reply_timeout);
  }
  return std::unique_ptr<Broker>(new RedisBroker(*endpoint, options.key_prefix));
}

Result<std::unique_ptr<WakeSubscription>> SubscribeWake(const BrokerOptions& options,
                                                        std::span<const std::string> queues) {
  auto endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) return endpoint.status();
  auto connection = RedisConnection::Open(*endpoint);
  if (!connection.ok()) return connection.status();
  std::unordered_map<std::string, std::string> channel_to_queue;
  Command subscribe{"SUBSCRIBE"};
  for (const std::string& queue : queues) {
    std::string channel = QueueKeys(options.key_prefix, queue).wake_channel();
    subscribe.Add(channel);
    channel_to_queue.emplace(channel, queue);
  }
  TASKQ_RETURN_IF_ERROR((*connection)->Send(subscribe));
  // Wait for every confirmation, so no wake published after we return can be missed.
  for (size_t i = 0; i < queues.size(); ++i) {
    auto reply = (*connection)->Receive();
    if (!reply.ok()) return reply.status();
    if (reply->view().is_error()) return Unavailable(std::string(reply->view().str()));
  }
  // Confirmed (under the command timeout, so a frozen Redis cannot hold us here). From now on it
  // is read only when poll() finds it readable (Wait), so no read can block on it.
  return std::unique_ptr<WakeSubscription>(
      new RedisWakeSubscription(std::move(*connection), std::move(channel_to_queue)));
}

}  // namespace taskq::broker
