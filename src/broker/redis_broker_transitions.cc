// RedisBroker: the transitions on the hot path (enqueue, claim, complete, fail, postpone,
// leases, Flush) and lease recovery.
#include <algorithm>
#include <limits>

#include "broker/redis_broker.h"
#include "common/job_codec.h"
#include "common/unique_key.h"

namespace taskq::broker {
namespace {

Command CompleteCommand(const QueueKeys& k, std::span<const Completion> completions,
                        const Retention& keep) {
  ScriptCall call("complete", CompleteKeys(k));
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
  ScriptCall call("fail", FailKeys(k));
  call.Arg(k.base()).Arg(static_cast<int64_t>(failures.size())).Arg(policy.max_errors_kept);
  call.Arg(policy.keep_dead.count).Arg(static_cast<int64_t>(policy.keep_dead.age.count()));
  for (const Failure& f : failures) call.Arg(f.lease.id).Token(f.lease.token).Arg(f.retry_delay_ms);
  for (const Failure& f : failures) call.Arg(f.error_json);
  return call.Take();
}

Command PostponeCommand(const QueueKeys& k, std::span<const Postponement> postponements,
                        int32_t max_log_lines) {
  ScriptCall call("postpone", PostponeKeys(k));
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
  ScriptCall call("progress", ProgressKeys(k));
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
  ScriptCall call("overrun", OverrunKeys(k));
  for (const OverrunNotice& n : notices) {
    call.Arg(n.lease.id).Token(n.lease.token).Arg(std::max<int64_t>(n.timeout_ms, 0));
  }
  return call.Take();
}

Command ExtendCommand(const QueueKeys& k, std::span<const Lease> leases,
                      std::chrono::milliseconds lease) {
  ScriptCall call("extend", ExtendKeys(k));
  call.Arg(k.base()).Arg(static_cast<int64_t>(lease.count()));
  for (const Lease& l : leases) call.Arg(l.id).Token(l.token);
  return call.Take();
}

Command ClaimCommand(const QueueKeys& k, int32_t max_jobs, std::chrono::milliseconds lease,
                     std::string_view receipt = {}) {
  ScriptCall call("claim", ClaimKeys(k));
  call.Arg(k.base()).Arg(std::clamp(max_jobs, 1, kMaxClaim));
  call.Arg(static_cast<int64_t>(lease.count())).Arg(kPromoteLimit);
  if (!receipt.empty()) call.Arg(receipt);
  return call.Take();
}

}  // namespace

bool RedisBroker::IsPlain(const NewJob& job) {
  return job.priority == 0 && job.delay_ms == 0 && job.run_at_ms < 0 && job.group.empty() &&
         !job.unique && !job.hooked && !job.lifo;
}

std::string RedisBroker::JobOptionsArg(const NewJob& job) {
  std::string options = job.hooked ? "h" : "";
  if (job.lifo) options += 'l';
  options += std::to_string(job.priority) + ":" + std::to_string(job.delay_ms) + ":" +
             std::to_string(job.run_at_ms);
  if (!job.group.empty()) options += ":" + job.group;
  return options;
}

Status RedisBroker::QueueFullError(const Reply& reply) {
  if (reply.view().is_error() && reply.view().str().starts_with("QUEUEFULL ")) {
    return Status(StatusCode::kQueueFull,
                  "the queue is full: " + std::string(reply.view().str().substr(10)));
  }
  return Status::Ok();
}

Command RedisBroker::EnqueueCall(const QueueKeys& k, std::span<const NewJob> jobs,
                                 int64_t layout_version) {
  ScriptCall call("enqueue", EnqueueKeys(k));
  call.Arg(k.base()).Arg(static_cast<int64_t>(jobs.size()));
  for (const NewJob& job : jobs) {
    call.Arg(job.id).Arg(job.body);
    if (IsPlain(job)) {
      call.Arg(std::string_view());  // a plain job: see enqueue.lua
    } else {
      std::string options = JobOptionsArg(job);
      if (job.unique) {
        options += '|';
        options += UniqueModeName(job.unique->mode);
        options += ':' + std::to_string(job.unique->ttl.count()) + ':' + job.unique->key;
      }
      call.Arg(options);
    }
  }
  if (layout_version != 0) call.Arg(layout_version);
  return call.Take();
}

Result<std::vector<EnqueueReply>> RedisBroker::Enqueue(const std::string& queue,
                                                       std::span<const NewJob> jobs) {
  std::vector<uint16_t> written;
  auto out = EnqueuePlaced(queue, jobs, &written);
  if (!out.ok() || jobs.empty()) return out;
  TASKQ_RETURN_IF_ERROR(WaitForReplicas(written));
  return out;
}

std::vector<Result<EnqueueReply>> RedisBroker::EnqueueEach(const std::string& queue,
                                                           std::span<const NewJob> jobs) {
  std::vector<Status> failed(jobs.size());
  std::vector<uint16_t> written;
  auto replies = EnqueuePlaced(queue, jobs, &written, &failed);
  const Status waited = !replies.ok()     ? replies.status()
                        : written.empty() ? Status::Ok()
                                          : WaitForReplicas(written);
  std::vector<Result<EnqueueReply>> each;
  each.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!failed[i].ok()) {
      each.push_back(failed[i]);
    } else if (!waited.ok()) {
      each.push_back(waited);
    } else {
      each.push_back(std::move((*replies)[i]));
    }
  }
  return each;
}

Result<std::vector<EnqueueReply>> RedisBroker::EnqueueOnMaster(const std::string& queue,
                                                               std::span<const NewJob> jobs) {
  return EnqueuePlaced(queue, jobs, nullptr);
}

Result<std::vector<EnqueueReply>> RedisBroker::EnqueueOnShard(const std::string& tag,
                                                              std::span<const NewJob> jobs,
                                                              int64_t layout_version) {
  if (jobs.empty()) return std::vector<EnqueueReply>();
  const QueueKeys& k = Keys(tag);
  const auto now = std::chrono::steady_clock::now();
  auto general = general_enqueue_until_.find(tag);
  const bool known_general = general != general_enqueue_until_.end() && now < general->second;
  if (jobs.size() == 1 && IsPlain(jobs[0]) && !known_general) {
    ScriptCall one("enqueue_one", EnqueueOneKeys(k));
    one.Arg(k.base()).Arg(jobs[0].id).Arg(jobs[0].body);
    if (layout_version != 0) one.Arg(layout_version);
    auto reply = RunScript(k.slot(), one.Take());
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(LayoutRefusal(*reply));
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "enqueue"));
    const long long outcome = reply->view().AsInt(-1);
    if (outcome >= 0) {
      return std::vector<EnqueueReply>{
          {outcome == 1 ? EnqueueOutcome::kWaiting : EnqueueOutcome::kExisted, {}}};
    }
    // The queue groups by a data field or ages priorities: enqueue.lua, and for a while its
    // single jobs go straight there (a stale memo only costs this extra round trip again).
    general_enqueue_until_[tag] = now + std::chrono::seconds(10);
  }
  // One script call however many jobs: the whole bulk is one atomic step (enqueue.lua sends
  // long argument lists to Redis in parts, parts.lua).
  auto reply = RunScript(k.slot(), EnqueueCall(k, jobs, layout_version));
  if (!reply.ok()) return reply.status();
  return ParseEnqueueReply(*reply, jobs.size());
}

Result<std::vector<EnqueueReply>> RedisBroker::ParseEnqueueReply(const Reply& reply, size_t jobs) {
  // enqueue.lua refused the batch, writing nothing: the queue is at its maximum length, or the
  // producer placed the jobs by an older shard layout.
  TASKQ_RETURN_IF_ERROR(QueueFullError(reply));
  TASKQ_RETURN_IF_ERROR(LayoutRefusal(reply));
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

Status RedisBroker::EnqueueBatches(const NextBatch& next, const BatchDone& done) {
  auto first = next();
  if (!first.ok()) return first.status();
  if (!*first) return Status::Ok();
  // The first batch the usual way: it connects, and loads the scripts if Redis lost them
  // (NOSCRIPT), so the batches streamed after it find them.
  std::vector<uint16_t> slots;
  auto replies = EnqueuePlaced((*first)->queue, (*first)->jobs, &slots);
  if (!replies.ok()) return replies.status();
  done(*replies);
  if (cluster_) {
    // Each batch to its queue's masters, one after the other; then WAIT on each master written.
    while (true) {
      auto batch = next();
      if (!batch.ok()) return batch.status();
      if (!*batch) break;
      auto written = EnqueuePlaced((*batch)->queue, (*batch)->jobs, &slots);
      if (!written.ok()) return written.status();
      done(*written);
    }
    return WaitForReplicas(slots);
  }
  // Then batch i is made and sent before the reply to batch i - 1 is read, so Redis finds it
  // waiting when it finishes i - 1, while the caller makes i + 1. (Sending it only after that
  // reply would leave Redis idle while the reply travels and the next batch arrives.) A batch
  // for a queue of several shards goes alone, after the reply to the one in flight.
  std::optional<QueueBatch> in_flight;
  while (true) {
    auto batch = next();
    const bool produced = batch.ok() && batch->has_value();
    std::optional<QueueBatch> sending;
    std::optional<QueueBatch> spread;
    if (produced) {
      const QueueLayout& layout = PlacementLayout((*batch)->queue);
      if (layout.shards() > 1) {
        spread = std::move(*batch);
      } else {
        sending = std::move(*batch);
        Status sent =
            connection_->Send(EnqueueCall(Keys(sending->queue), sending->jobs, layout.version));
        if (!sent.ok()) return sent;  // the connection is broken: in_flight's fate is unknown
      }
    }
    if (in_flight) {
      auto reply = connection_->Receive();
      auto parsed = reply.ok() ? ParseEnqueueReply(*reply, in_flight->jobs.size())
                               : Result<std::vector<EnqueueReply>>(reply.status());
      if (!parsed.ok() && parsed.status().message().starts_with(kLayoutChanged)) {
        // The queue's shards changed since this broker read them: nothing of the batch was
        // written. Once the connection is idle (the reply to `sending` read too), both batches
        // are placed by the layout read anew.
        std::optional<Result<std::vector<EnqueueReply>>> sent;
        if (sending) {
          auto sent_reply = connection_->Receive();
          sent = sent_reply.ok() ? ParseEnqueueReply(*sent_reply, sending->jobs.size())
                                 : Result<std::vector<EnqueueReply>>(sent_reply.status());
        }
        // Read first, so that the placement does not go by the refused layout once more.
        if (auto read = Layout(in_flight->queue); !read.ok()) return read.status();
        parsed = EnqueuePlaced(in_flight->queue, in_flight->jobs, &slots);
        if (!parsed.ok()) return parsed.status();
        done(*parsed);
        if (sending) {
          if (!sent->ok() && sent->status().message().starts_with(kLayoutChanged)) {
            if (auto read = Layout(sending->queue); !read.ok()) return read.status();
            sent = EnqueuePlaced(sending->queue, sending->jobs, &slots);
          }
          if (!sent->ok()) return sent->status();
          done(**sent);
          sending.reset();
        }
      } else if (!parsed.ok()) {
        // The reply to `sending` must not reach the connection's next caller.
        if (sending) connection_->Abandon();
        return parsed.status();
      } else {
        done(*parsed);
      }
      in_flight.reset();
    }
    if (!batch.ok()) return batch.status();
    if (spread) {
      auto written = EnqueuePlaced(spread->queue, spread->jobs, &slots);
      if (!written.ok()) return written.status();
      done(*written);
      continue;
    }
    if (!produced) break;
    if (sending) in_flight = std::move(sending);
  }
  return WaitForReplicas({});
}

Status RedisBroker::WaitForReplicas(std::span<const uint16_t> slots) {
  if (endpoint_.wait_replicas == 0) return Status::Ok();
  const Command wait = Command{"WAIT"}
                           .Add(static_cast<long long>(endpoint_.wait_replicas))
                           .Add(static_cast<long long>(endpoint_.wait_timeout.count()));
  // One WAIT per master written (one Redis: the one), all sent before any is read.
  std::vector<uint16_t> wait_slots;
  if (cluster_) {
    std::vector<const ClusterNode*> masters;
    for (const uint16_t slot : slots) {
      const ClusterNode* master = cluster_->map().MasterOf(slot);
      if (std::find(masters.begin(), masters.end(), master) != masters.end()) continue;
      masters.push_back(master);
      wait_slots.push_back(slot);
    }
  } else {
    wait_slots.push_back(0);
  }
  const std::vector<Command> waits(wait_slots.size(), wait);
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommandsAcross(wait_slots, waits, &replies));
  for (const Reply& reply : replies) {
    if (reply.view().is_error()) {
      // The master became a replica meanwhile (a failover): whether a replica has the jobs is
      // unknown, so the caller hears Unavailable and may retry (the ids make that safe).
      return Unavailable("the jobs are written, but the replicas could not be asked (" +
                         std::string(reply.view().str()) + "): a failover now could lose them");
    }
    const long long acked = reply.view().AsInt();
    if (acked >= endpoint_.wait_replicas) continue;
    return Unavailable("the jobs are written, but only " + std::to_string(acked) + " of " +
                       std::to_string(endpoint_.wait_replicas) + " replicas had them after " +
                       std::to_string(endpoint_.wait_timeout.count()) +
                       " ms (wait_replicas): a failover now could lose them");
  }
  return Status::Ok();
}

Result<ClaimResult> RedisBroker::Claim(const std::string& queue, int32_t max_jobs,
                                       std::chrono::milliseconds lease) {
  auto reply = RunScript(Keys(queue).slot(), ClaimCommand(Keys(queue), max_jobs, lease));
  if (!reply.ok()) return reply.status();
  return ParseClaim(*reply);
}

Result<std::vector<bool>> RedisBroker::Complete(const std::string& queue,
                                                std::span<const Completion> completions,
                                                const FinishPolicy& policy) {
  if (completions.empty()) return std::vector<bool>();
  const QueueKeys& k = Keys(queue);
  auto reply = RunScript(k.slot(), CompleteCommand(k, completions, policy.keep_completed));
  if (!reply.ok()) return reply.status();
  return ParseFlagsReply(*reply, "complete", completions.size());
}

Result<std::vector<bool>> RedisBroker::Fail(const std::string& queue,
                                            std::span<const Failure> failures,
                                            const FinishPolicy& policy) {
  if (failures.empty()) return std::vector<bool>();
  auto reply = RunScript(Keys(queue).slot(), FailCommand(Keys(queue), failures, policy));
  if (!reply.ok()) return reply.status();
  return ParseFlagsReply(*reply, "fail", failures.size());
}

Result<std::vector<bool>> RedisBroker::Postpone(const std::string& queue,
                                                std::span<const Postponement> postponements,
                                                int32_t max_log_lines) {
  if (postponements.empty()) return std::vector<bool>();
  const QueueKeys& k = Keys(queue);
  auto reply = RunScript(k.slot(), PostponeCommand(k, postponements, max_log_lines));
  if (!reply.ok()) return reply.status();
  return ParseFlagsReply(*reply, "postpone", postponements.size());
}

Result<ExtendResult> RedisBroker::ExtendLeases(const std::string& queue,
                                               std::span<const Lease> leases,
                                               std::chrono::milliseconds lease) {
  if (leases.empty()) return ExtendResult{};
  auto reply = RunScript(Keys(queue).slot(), ExtendCommand(Keys(queue), leases, lease));
  if (!reply.ok()) return reply.status();
  return ParseExtend(*reply);
}

Result<FlushResult> RedisBroker::Flush(const std::string& queue, const FlushRequest& request) {
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
  if (!request.extend.empty()) commands.push_back(ExtendCommand(k, request.extend, request.lease));
  if (request.claim > 0)
    commands.push_back(ClaimCommand(k, request.claim, request.lease, request.claim_receipt));
  FlushResult out;
  if (commands.empty()) return out;
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScripts(k.slot(), commands, &replies));
  size_t r = 0;
  // The flags of one batch's reply (one per item) into `flags`, or why not into `error`.
  auto take_flags = [&](size_t items, std::string_view script, std::vector<bool>* flags,
                        Status* error) {
    if (items == 0) return;
    auto parsed = ParseFlagsReply(replies[r++], script, items);
    if (parsed.ok())
      *flags = std::move(*parsed);
    else
      *error = parsed.status();
  };
  take_flags(request.overruns.size(), "overrun", &out.overrun, &out.overruns_error);
  if (!request.progress.empty()) out.progress_error = ReplyError(replies[r++], "progress");
  take_flags(request.completions.size(), "complete", &out.completed, &out.completions_error);
  take_flags(request.failures.size(), "fail", &out.failed, &out.failures_error);
  take_flags(request.postponements.size(), "postpone", &out.postponed, &out.postponements_error);
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

Result<RecoverResult> RedisBroker::RecoverExpired(const std::string& queue, int32_t max_stalls,
                                                  int32_t limit, const FinishPolicy& policy) {
  const QueueKeys& k = Keys(queue);
  ScriptCall call("recover", RecoverKeys(k));
  call.Arg(k.base()).Arg(max_stalls).Arg(limit).Arg(policy.max_errors_kept);
  call.Arg(policy.keep_dead.count).Arg(static_cast<int64_t>(policy.keep_dead.age.count()));
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "recover"));
  ReplyView v = reply->view();
  if (v.size() != 2) return Internal("recover: bad reply");
  return RecoverResult{v[0].AsInt(), v[1].AsInt()};
}

Result<int64_t> RedisBroker::Release(const std::string& queue, std::span<const Lease> leases) {
  if (leases.empty()) return int64_t{0};
  const QueueKeys& k = Keys(queue);
  ScriptCall call("release", ReleaseKeys(k));
  call.Arg(k.base());
  for (const Lease& l : leases) call.Arg(l.id).Token(l.token);
  return RunIntScript(k.slot(), call.Take(), "release");
}

Result<int64_t> RedisBroker::ReleaseLostClaim(const std::string& queue,
                                              const std::string& receipt) {
  const QueueKeys& k = Keys(queue);
  ScriptCall call("lost_claim", LostClaimKeys(k));
  call.Arg(k.base()).Arg(receipt);
  auto reply = RunScript(k.slot(), call.Take());
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

}  // namespace taskq::broker
