#include "worker/processor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>
#include <utility>

#include "common/flow_ids.h"
#include "common/job_codec.h"
#include "common/json_text.h"
#include "common/rfc3339.h"
#include "common/text_list.h"
#include "common/trace_parent.h"
#include "worker/handler_limits.h"
#include "worker/running_job.h"

namespace taskq::worker {
namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

ProcessorOptions WithShardTag(ProcessorOptions options) {
  if (options.shard_tag.empty()) options.shard_tag = options.queue;
  return options;
}

// Whether finishing a job with these options may write to its queue's outbox: a completion
// callback, or a job of a flow across queues (one of another queue reports to its flow's queue;
// one of the flow's queue may release a parent that runs in another queue).
bool WritesOutboxEntries(const EnqueueOptions& options) {
  return !options.callback_url.empty() || (options.flow && options.flow->across_queues);
}

double UnitRandom() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

// 16 random hex digits: names this processor's claims apart from every other worker's.
std::string RandomHex() {
  std::random_device random;
  char text[17];
  std::snprintf(text, sizeof(text), "%08x%08x", random(), random());
  return text;
}

}  // namespace

void RunningJob::SetProgress(std::string progress_json) {
  owner_.AddProgress(*this, std::move(progress_json), {});
}

void RunningJob::Log(std::string line) { owner_.AddProgress(*this, {}, std::move(line)); }

Processor::Processor(ProcessorOptions options, std::unique_ptr<broker::Broker> broker,
                     const HandlerRegistry& handlers, ThreadPool& pool)
    : options_(WithShardTag(std::move(options))),
      handlers_(handlers),
      pool_(pool),
      broker_(std::move(broker)),
      idle_(options_.shard_tag, options_.subscribe),
      outbox_({options_.lease, options_.max_errors_kept, options_.max_log_lines}),
      receipt_prefix_(RandomHex()) {}

Processor::~Processor() { Shutdown(); }

void Processor::NotifyLoop() {
  changed_.notify_all();
  idle_.Interrupt();
}

void Processor::Start() {
  loop_ = std::thread([this] { Loop(); });
  lease_watch_ = std::thread([this] {
    const milliseconds every =
        std::clamp(std::chrono::duration_cast<milliseconds>(options_.lease / 10), milliseconds(10),
                   milliseconds(1000));
    std::unique_lock lock(mu_);
    while (!watch_changed_.wait_for(lock, every, [this] { return watch_stop_; })) {
      CheckRunningJobs(Clock::now());
    }
  });
}

void Processor::StopClaiming() {
  {
    std::lock_guard lock(mu_);
    claiming_ = false;
  }
  NotifyLoop();
}

bool Processor::WaitIdle(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return changed_.wait_until(
      lock, deadline, [this] { return running_.empty() && outbox_.empty() && !flush_in_flight_; });
}

int32_t Processor::BusySlots() const {
  return static_cast<int32_t>(running_.size() + abandoned_.size());
}

void Processor::Abandon(const std::string& id) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  it->second->RequestStop();
  abandoned_.emplace(it->second.get(), it->second);
  running_.erase(it);
}

void Processor::Shutdown() {
  std::vector<broker::Lease> leases;
  {
    std::lock_guard lock(mu_);
    if (!loop_.joinable()) return;
    claiming_ = false;
    exit_ = true;
    watch_stop_ = true;
  }
  watch_changed_.notify_all();
  lease_watch_.join();
  NotifyLoop();
  loop_.join();
  // The loop has ended: this thread is now the broker's only user.
  broker::FlushRequest last;
  {
    std::unique_lock lock(mu_);
    for (const broker::Lease& lease : HeldLeases()) {
      RunningJob& job = *running_.at(lease.id);
      if (job.overrunning) {
        // Its attempt failed at its timeout. Handed back, the attempt would be refunded, and a
        // handler that always hangs would never use up max_attempts.
        outbox_.AddOverrun({lease, 0});
        AddFailure(job, TimedOutText(job) + "; the worker stopped while the handler still ran",
                   !job.cancel_requested);
      } else {
        leases.push_back(lease);
      }
      Abandon(lease.id);
    }
    if (options_.processes != nullptr) {
      // Their handler processes were asked to stop, and are stopped the kill grace later: the
      // leases go back only after that, so no other worker's attempt overlaps these (the leases,
      // renewed a third of a lease ago at most, still hold meanwhile).
      changed_.wait_for(lock, options_.handler_kill_grace + milliseconds(500),
                        [this] { return abandoned_.empty(); });
    }
    last = outbox_.Take();
  }
  ReleaseLostClaims();
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto released = broker_->Release(options_.shard_tag, leases);
    if (released.ok()) {
      if (!leases.empty()) {
        spdlog::info("queue {}: handed back {} running job(s)", options_.queue, *released);
      }
      break;
    }
    spdlog::warn("queue {}: handing back leases failed: {}", options_.queue,
                 released.status().ToString());
  }
  while (CarriesResults(last)) {
    auto result = broker_->Flush(options_.shard_tag, last);
    std::lock_guard lock(mu_);
    if (!result.ok()) {
      spdlog::warn(
          "queue {}: could not send {} result(s) at shutdown: {}; their leases will "
          "expire and the jobs run again",
          options_.queue,
          last.completions.size() + last.failures.size() + last.postponements.size(),
          result.status().ToString());
      break;
    }
    CountFinished(*result);
    last = outbox_.Take();
  }
}

Processor::Stats Processor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<std::pair<std::string, int64_t>> Processor::DrainTimings() {
  std::lock_guard lock(mu_);
  return timings_.Drain();
}

int64_t Processor::running() const {
  std::lock_guard lock(mu_);
  return BusySlots();
}

void Processor::AddProgress(const RunningJob& job, std::string progress_json,
                            std::string log_line) {
  {
    std::lock_guard lock(mu_);
    if (abandoned_.contains(&job)) return;
    if (progress_json.size() > kMaxProgressBytes) progress_json.clear();
    TruncateLogLine(&log_line);
    outbox_.AddProgress(job.lease(), std::move(progress_json), std::move(log_line));
  }
  NotifyLoop();
}

std::vector<broker::Lease> Processor::HeldLeases() const {
  std::vector<broker::Lease> leases;
  for (const auto& [id, job] : running_) leases.push_back(job->lease());
  return leases;
}

void Processor::CountFinished(const broker::FlushResult& result) {
  for (bool ok : result.completed) (ok ? stats_.completed : stats_.rejected)++;
  for (bool ok : result.failed) (ok ? stats_.failed : stats_.rejected)++;
  for (bool ok : result.postponed) (ok ? stats_.postponed : stats_.rejected)++;
}

void Processor::AddFailure(const RunningJob& job, const std::string& message, bool retry,
                           std::chrono::milliseconds retry_after) {
  const EnqueueOptions& o = job.options();
  int64_t delay = -1;
  if (retry && job.attempt() < o.max_attempts) {
    delay = retry_after.count() >= 0 ? std::min(retry_after.count(), kMaxHandlerDelayMs)
                                     : BackoffDelay(o.backoff, job.attempt(), UnitRandom()).count();
  }
  std::string error = "{\"attempt\":" + std::to_string(job.attempt()) + ",\"message\":";
  AppendJsonString(&error, message);
  error += '}';
  outbox_.AddFailure({job.lease(), std::move(error), delay}, o.keep_dead);
  if (delay < 0 && WritesOutboxEntries(o)) relay_owed_ = true;
}

void Processor::AddPostponement(const RunningJob& job, milliseconds after,
                                const std::string& message) {
  const int64_t delay = std::clamp<int64_t>(after.count(), 0, kMaxHandlerDelayMs);
  std::string line = "rate limited; runs again in " + std::to_string(delay) + " ms";
  if (!message.empty()) line += ": " + message;
  TruncateLogLine(&line);
  outbox_.AddPostponement({job.lease(), delay, std::move(line)});
}

void Processor::ReleaseLostClaims() {
  while (!lost_receipts_.empty()) {
    auto released = broker_->ReleaseLostClaim(options_.shard_tag, lost_receipts_.back());
    if (!released.ok()) return;  // Redis still unreachable: the next round trip tries again
    if (*released > 0) {
      spdlog::info("queue {}: handed back {} job(s) of a claim whose reply was lost",
                   options_.queue, *released);
    }
    lost_receipts_.pop_back();
  }
}

Clock::time_point Processor::StopBy(Clock::time_point lease_sent) const {
  return lease_sent + options_.lease - options_.lease / 4;
}

milliseconds Processor::TimeoutOf(const RunningJob& job) const {
  return job.options().timeout.count() > 0 ? job.options().timeout : options_.default_timeout;
}

std::string Processor::TimedOutText(const RunningJob& job) const {
  return "timed out after " + std::to_string(TimeoutOf(job).count()) + " ms";
}

Clock::time_point Processor::NextCheckOf(const RunningJob& job) {
  return job.overrunning ? job.stop_by : std::min(job.deadline(), job.stop_by);
}

void Processor::CheckRunningJobs(Clock::time_point now) {
  if (now < next_job_check_) return;  // nothing can be due yet: no pass over running_
  std::vector<std::string> timed_out, unrenewed;
  next_job_check_ = Clock::time_point::max();
  for (const auto& [id, job] : running_) {
    if (!job->overrunning && now >= job->deadline()) {
      timed_out.push_back(id);
    } else if (now >= job->stop_by) {
      unrenewed.push_back(id);
    } else {
      next_job_check_ = std::min(next_job_check_, NextCheckOf(*job));
    }
  }
  for (const std::string& id : timed_out) {
    // The handler is asked to stop; the job stays running, with its lease renewed, until the
    // handler returns (RunHandler ends the attempt then). Redis marks it overrunning.
    RunningJob& job = *running_.at(id);
    job.overrunning = true;
    job.RequestStop();
    next_job_check_ = std::min(next_job_check_, NextCheckOf(job));
    const int64_t timeout = TimeoutOf(job).count();
    outbox_.AddOverrun({job.lease(), std::max<int64_t>(timeout, 1)});  // 0 would be a clear
    // A handler process is stopped the kill grace after the deadline; a thread can only be asked.
    const std::string until = options_.processes != nullptr
                                  ? "its process is stopped " +
                                        std::to_string(options_.handler_kill_grace.count()) +
                                        " ms after the deadline unless it returns first"
                                  : "the job is not retried until it returns";
    outbox_.AddProgress(
        job.lease(), {},
        TimedOutText(job) + "; the handler was asked to stop and still runs: " + until);
    const std::string_view trace = TraceIdOf(job.trace_parent());
    spdlog::warn("queue {}: job {}{}{} timed out after {} ms; its handler still runs ({})",
                 options_.queue, id, trace.empty() ? "" : " trace_id=", trace, timeout, until);
  }
  for (const std::string& id : unrenewed) {
    spdlog::warn(
        "queue {}: could not renew the lease of job {} (Redis unreachable); stopping it before "
        "the lease can expire and another worker run it",
        options_.queue, id);
    Abandon(id);
  }
}

std::shared_ptr<RunningJob> Processor::StartJob(broker::ClaimedJob claimed, int64_t now_ms,
                                                Clock::time_point claim_sent) {
  ++stats_.claimed;
  auto body = DecodeJobBody(claimed.body, options_.queue);
  if (body.ok() && claimed.attempt == 1 && !claimed.restarted) {
    // Waited since due: run-at, or creation plus delay. Retries wait by design, and a restart
    // (released, postponed, retried from dead) was counted when it first started: not counted.
    const int64_t due =
        body->options.run_at_ms.value_or(body->created_ms + body->options.delay.count());
    timings_.RecordWait(body->type, now_ms - due);
  }
  const RegisteredHandler* handler = body.ok() ? handlers_.Find(body->type) : nullptr;
  const milliseconds timeout = body.ok() && body->options.timeout.count() > 0
                                   ? body->options.timeout
                                   : options_.default_timeout;
  auto job = std::make_shared<RunningJob>(*this, options_.queue, std::move(claimed),
                                          body.ok() ? std::move(*body) : DecodedBody{},
                                          Clock::now() + timeout);
  if (!body.ok()) {
    // Permanent: no attempt would go differently on any worker.
    AddFailure(*job, "job body unreadable: " + body.status().message(), false);
    return nullptr;
  }
  if (const std::optional<int64_t>& expires = job->options().expires_at_ms;
      expires && now_ms > *expires) {
    // Not started in time: discarded without running, and visibly so (dead, with the reason).
    AddFailure(*job, "expired: not started by " + FormatRfc3339Ms(*expires), false);
    return nullptr;
  }
  if (handler == nullptr) {
    // Another worker may have the handler (in a rolling deploy, older workers meet newer types):
    // hand the job back without using an attempt, due again after a backoff (postpone.lua).
    std::string line =
        "no handler for job type '" + job->type() + "' on worker " + options_.worker_id;
    TruncateLogLine(&line);
    outbox_.AddPostponement({job->lease(), 0, std::move(line), /*handback=*/true});
    return nullptr;
  }
  if (!handler->options.queues.empty() &&
      std::find(handler->options.queues.begin(), handler->options.queues.end(), options_.queue) ==
          handler->options.queues.end()) {
    // Permanent: the type is configured to run elsewhere (HandlerOptions::queues).
    AddFailure(*job,
               "jobs of type '" + job->type() + "' do not run from queue '" + options_.queue +
                   "' (this worker runs them from " + JoinList(handler->options.queues) + ")",
               false);
    return nullptr;
  }
  // The same id may come back while an earlier attempt's handler still runs: it timed out, or
  // its lease expired and was recovered before an extend told this worker it was lost. Redis
  // hands a job to one lease at a time, so the earlier attempt is stale: abandon it here.
  Abandon(job->id());
  job->stop_by = StopBy(claim_sent);
  next_job_check_ = std::min(next_job_check_, NextCheckOf(*job));
  running_.emplace(job->id(), job);
  return job;
}

void Processor::RunHandler(const std::shared_ptr<RunningJob>& job) {
  HandlerResult result;
  bool skip;
  {
    std::lock_guard lock(mu_);
    skip = abandoned_.contains(job.get());  // handed back before a thread picked it up
  }
  if (!skip) {
    const RegisteredHandler* handler = handlers_.Find(job->type());
    try {
      result = handler->handler(*job);
    } catch (const std::exception& e) {
      result = HandlerResult::Retry(std::string("handler threw: ") + e.what());
    } catch (...) {
      result = HandlerResult::Retry("handler threw a non-standard exception");
    }
  }
  FinishAttempt(job, std::move(result));
}

void Processor::FinishAttempt(const std::shared_ptr<RunningJob>& job, HandlerResult result) {
  {
    std::lock_guard lock(mu_);
    if (abandoned_.erase(job.get()) > 0) {
    } else {
      running_.erase(job->id());
      const int64_t ran_ms =
          std::chrono::duration_cast<milliseconds>(Clock::now() - job->started()).count();
      timings_.RecordProcessing(job->type(), ran_ms);
      if (job->overrunning) {
        // Its mark goes before its result (FlushRequest::overruns are sent first).
        outbox_.AddOverrun({job->lease(), 0});
        // The attempt failed when its timeout passed, whatever the handler answers now: a late
        // result is discarded, as the timeout promises.
        std::string message =
            TimedOutText(*job) + "; the handler returned after " + std::to_string(ran_ms) + " ms";
        if (result.kind == HandlerResult::Kind::kSuccess) {
          message += " and its late result was discarded";
        } else if (!result.message.empty()) {
          message += ": " + result.message;
        }
        // A cancelled job is not retried, whatever stopped it.
        result = job->cancel_requested ? HandlerResult::Fail(std::move(message))
                                       : HandlerResult::Retry(std::move(message));
      }
      if (result.kind == HandlerResult::Kind::kSuccess &&
          result.result_json.size() > kMaxResultBytes) {
        AddFailure(*job, ResultTooLargeText(result.result_json.size()), false);
      } else if (result.kind == HandlerResult::Kind::kSuccess) {
        outbox_.AddCompletion({job->lease(), std::move(result.result_json)},
                              job->options().keep_completed);
        if (WritesOutboxEntries(job->options())) relay_owed_ = true;
      } else if (job->cancel_requested) {
        AddFailure(*job, "cancelled" + (result.message.empty() ? "" : ": " + result.message),
                   false);
      } else if (result.kind == HandlerResult::Kind::kRateLimited) {
        AddPostponement(*job, result.retry_after, result.message);
      } else {
        AddFailure(*job, result.message, result.kind == HandlerResult::Kind::kRetry,
                   result.retry_after);
      }
    }
  }
  NotifyLoop();
}

void Processor::Loop() {
  const Clock::time_point now = Clock::now();
  LoopState state;
  state.renew_every = std::max(options_.lease / 3, milliseconds(1));
  state.next_renewal = now + state.renew_every;
  state.next_recover = now;
  state.next_poll = now + options_.idle_poll;
  std::unique_lock lock(mu_);
  while (!exit_) {
    RunOnce(lock, state);
    changed_.notify_all();  // WaitIdle
  }
}

void Processor::RunOnce(std::unique_lock<std::mutex>& lock, LoopState& state) {
  const Clock::time_point now = Clock::now();
  CheckRunningJobs(now);
  if (wake_) {
    wake_ = false;
    state.want_claim = true;
  }
  if (now >= state.next_due) {
    state.next_due = Clock::time_point::max();
    state.want_claim = true;
  }
  if (now >= state.next_poll) {
    state.next_poll = now + options_.idle_poll;
    state.want_claim = true;
  }
  const bool renew = now >= state.next_renewal;
  const bool recover = now >= state.next_recover;
  const int32_t free_slots = options_.concurrency - BusySlots();
  int32_t claim = (claiming_ && state.want_claim && free_slots > 0) ? free_slots : 0;
  if (options_.slot_pool) {
    // Every iteration tells the pool what this shard's jobs hold, so freed slots reach the
    // other shards' loops at once.
    claim = options_.slot_pool->Take(options_.shard_index, BusySlots(), claim);
  }
  if (outbox_.empty() && claim == 0 && !renew && !recover) {
    const Clock::time_point until = std::min(
        {state.next_renewal, state.next_recover, state.next_poll, state.next_due, next_job_check_});
    if (idle_.Wait(lock, changed_, until)) wake_ = true;
    return;
  }

  broker::FlushRequest request = outbox_.Take();
  const bool relay_sent = std::exchange(relay_owed_, false);
  request.claim = claim;
  if (claim > 0) request.claim_receipt = receipt_prefix_ + ":" + std::to_string(++claims_sent_);
  if (renew) request.extend = HeldLeases();
  flush_in_flight_ = true;
  lock.unlock();
  const bool woken_while_busy = idle_.PollWhileBusy();
  ReleaseLostClaims();
  const Clock::time_point sent = Clock::now();
  auto result = broker_->Flush(options_.shard_tag, request);
  // Recovery runs after this worker's own results and lease renewals have gone out: after an
  // outage longer than the lease, it must not requeue jobs whose results are about to arrive.
  const bool recovered_dead = recover && result.ok() && RecoverExpiredLeases();
  if ((recovered_dead || (relay_sent && result.ok())) && options_.notify_relay) {
    options_.notify_relay();
  }
  lock.lock();
  if (woken_while_busy) wake_ = true;
  flush_in_flight_ = false;
  ++stats_.round_trips;

  if (!result.ok()) {
    // The claim may have run in Redis with its reply lost: its jobs go back once Redis answers.
    if (request.claim > 0) lost_receipts_.push_back(request.claim_receipt);
    if (options_.slot_pool) options_.slot_pool->Return(options_.shard_index, request.claim);
    outbox_.Restore(request);
    relay_owed_ = relay_owed_ || relay_sent;
    spdlog::warn("queue {}: Redis round trip failed ({}); retrying in {} ms", options_.queue,
                 result.status().ToString(), state.retry_pause.count());
    changed_.wait_for(lock, state.retry_pause, [this] { return exit_; });
    state.retry_pause = std::min(state.retry_pause * 2, milliseconds(2000));
    state.want_claim = true;  // after an outage, look again
    return;
  }
  if (recover) state.next_recover = Clock::now() + options_.recover_interval;
  // Parts Redis refused changed nothing: send them again (after a pause); the rest stands.
  const bool refused = LogRefusedParts(*result);
  outbox_.RestoreRefused(request, *result);
  state.retry_pause =
      refused ? std::min(state.retry_pause * 2, milliseconds(2000)) : milliseconds(50);
  CountFinished(*result);
  if (renew && result->extend_error.ok()) {
    state.next_renewal = Clock::now() + state.renew_every;
    ApplyRenewals(request.extend, result->extend, sent);
  }
  if (!result->claim_error.ok()) state.want_claim = true;
  if (options_.slot_pool && request.claim > 0) {
    const auto claimed = result->claim ? static_cast<int32_t>(result->claim->jobs.size()) : 0;
    options_.slot_pool->Return(options_.shard_index, request.claim - claimed);
  }
  if (result->claim) StartClaimed(lock, state, *result->claim, request.claim, sent);
  if (refused) changed_.wait_for(lock, state.retry_pause, [this] { return exit_; });
}

bool Processor::RecoverExpiredLeases() {
  broker::FinishPolicy policy;
  policy.max_errors_kept = options_.max_errors_kept;
  auto recovered = broker_->RecoverExpired(options_.shard_tag, options_.max_stalls, 1000, policy);
  if (recovered.ok() && (recovered->requeued > 0 || recovered->dead > 0)) {
    spdlog::warn("queue {}: recovered {} job(s) with expired leases, {} dead after too many",
                 options_.queue, recovered->requeued, recovered->dead);
  }
  return recovered.ok() && recovered->dead > 0;
}

bool Processor::LogRefusedParts(const broker::FlushResult& result) const {
  bool refused = false;
  for (const Status* part :
       {&result.overruns_error, &result.progress_error, &result.completions_error,
        &result.failures_error, &result.postponements_error, &result.extend_error,
        &result.claim_error}) {
    if (!part->ok()) {
      refused = true;
      spdlog::warn("queue {}: Redis refused part of a round trip: {}", options_.queue,
                   part->ToString());
    }
  }
  return refused;
}

void Processor::ApplyRenewals(const std::vector<broker::Lease>& sent_leases,
                              const broker::ExtendResult& extend, Clock::time_point sent) {
  for (const std::string& id : extend.lost) {
    if (running_.contains(id)) {
      spdlog::warn("queue {}: lost the lease of job {}; stopping it", options_.queue, id);
      Abandon(id);
    }
  }
  // The leases not lost were renewed from `sent` (only the attempt holding the token sent).
  for (const broker::Lease& renewed : sent_leases) {
    auto it = running_.find(renewed.id);
    if (it != running_.end() && it->second->lease().token == renewed.token) {
      it->second->stop_by = StopBy(sent);
    }
  }
  for (const std::string& id : extend.cancel_requested) {
    if (auto it = running_.find(id); it != running_.end()) {
      it->second->cancel_requested = true;
      it->second->RequestStop();
      // Past its timeout and still running: its handler ignores stop requests. Cancelling is the
      // operator's way out, so its lease is no longer renewed: it lapses, and recover.lua sends
      // the job to dead (cancelled), instead of it staying active for as long as the handler
      // hangs.
      if (it->second->overrunning) {
        spdlog::warn("queue {}: job {} was cancelled while overrunning; giving up its lease",
                     options_.queue, id);
        Abandon(id);
      }
    }
  }
}

void Processor::ReadChildren(std::unique_lock<std::mutex>& lock,
                             const std::vector<std::shared_ptr<RunningJob>>& parents,
                             const std::function<void(std::shared_ptr<RunningJob>)>& hand_over) {
  std::vector<Result<std::vector<FlowChild>>> read;
  read.reserve(parents.size());
  lock.unlock();
  for (const auto& job : parents) {
    auto address = ParseFlowId(job->options().flow->flow_id);
    if (!address.ok()) {
      read.push_back(address.status());
      continue;
    }
    // The results are kept with the flow's record, in the root's queue, wherever the parent runs.
    read.push_back(broker_->FlowChildren(address->queue, address->key, job->options().flow->ref));
  }
  lock.lock();
  for (size_t i = 0; i < parents.size(); ++i) {
    const std::shared_ptr<RunningJob>& job = parents[i];
    if (read[i].ok()) {
      job->SetChildren(std::move(*read[i]));
      hand_over(job);
      continue;
    }
    // A handler must never run without its children's results: the job waits and runs again
    // without its attempt counting (or is dropped here if it was abandoned meanwhile).
    if (abandoned_.erase(job.get()) > 0) continue;
    running_.erase(job->id());
    std::string line = "could not read its children's results (" + read[i].status().ToString() +
                       "); runs again in " + std::to_string(kChildrenRetryDelay.count()) + " ms";
    TruncateLogLine(&line);
    outbox_.AddPostponement({job->lease(), kChildrenRetryDelay.count(), std::move(line)});
  }
}

void Processor::StartClaimed(std::unique_lock<std::mutex>& lock, LoopState& state,
                             broker::ClaimResult& claimed, int32_t asked, Clock::time_point sent) {
  if (exit_) {
    // Shut down while this round trip was under way: its claimed jobs go straight back. (A
    // graceful stop that only stopped claiming still runs them within its grace period.)
    std::vector<broker::Lease> leases;
    for (const broker::ClaimedJob& job : claimed.jobs) leases.push_back({job.id, job.token});
    lock.unlock();
    auto released = broker_->Release(options_.shard_tag, leases);
    if (!released.ok()) {
      spdlog::warn("queue {}: could not hand back {} job(s) claimed while stopping: {}",
                   options_.queue, leases.size(), released.status().ToString());
    }
    lock.lock();
    claimed.jobs.clear();
  }
  const bool got_all = static_cast<int32_t>(claimed.jobs.size()) == asked;
  state.want_claim = !claimed.paused && (claimed.more || got_all);
  if (!claimed.paused && claimed.next_due_in_ms >= 0) {
    // Bounded: a due time far away (or absurd) must not overflow the clock.
    state.next_due =
        Clock::now() + std::min(milliseconds(claimed.next_due_in_ms), options_.idle_poll);
  }
  std::vector<std::shared_ptr<RunningJob>> inline_jobs;
  std::vector<std::function<void()>> pooled;
  auto hand_over = [&](std::shared_ptr<RunningJob> job) {
    if (options_.processes != nullptr) {
      // Queued without a thread hop; the result comes back on the pool's thread.
      options_.processes->Submit(
          job, [this, job](HandlerResult result) { FinishAttempt(job, std::move(result)); });
    } else if (handlers_.Find(job->type())->options.run_inline) {
      inline_jobs.push_back(std::move(job));
    } else {
      pooled.push_back([this, job] { RunHandler(job); });
    }
  };
  // Flow parents, which read their children's outcomes before they run: only they pay for that
  // read (one round trip each), after the claim's other jobs were handed over.
  std::vector<std::shared_ptr<RunningJob>> parents;
  for (broker::ClaimedJob& claimed_job : claimed.jobs) {
    std::shared_ptr<RunningJob> job = StartJob(std::move(claimed_job), claimed.now_ms, sent);
    if (!job) continue;
    if (job->reads_children()) {
      parents.push_back(std::move(job));
    } else {
      hand_over(std::move(job));
    }
  }
  if (!parents.empty()) {
    // The others start first: they need not wait for the parents' reads.
    if (!pooled.empty()) {
      lock.unlock();
      pool_.PostBatch(std::move(pooled));
      lock.lock();
      pooled.clear();
    }
    ReadChildren(lock, parents, hand_over);
  }
  if (inline_jobs.empty() && pooled.empty()) return;
  // Handed over with mu_ released: a handler thread that finishes at once must not wait for the
  // loop to post the rest.
  lock.unlock();
  if (!pooled.empty()) pool_.PostBatch(std::move(pooled));
  for (const auto& job : inline_jobs) RunHandler(job);
  lock.lock();
}

}  // namespace taskq::worker
