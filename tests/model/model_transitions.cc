// The model test's transitions: each operation applied to Redis through the broker and to the
// reference model, with the replies compared. The driver (model_run.cc) picks the operations.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include "broker/script_keys.h"
#include "broker/scripts.h"
#include "common/text_list.h"
#include "model_run.h"
#include "worker/callback_relay.h"

namespace taskq::model {
namespace {

constexpr int kLargestBulk = 10'000;  // taskq::kMaxBulkJobs, the API's bulk limit

}  // namespace

// Enqueue: the model decides every outcome in batch order, as enqueue.lua promises.

std::string ModelRun::DoEnqueue(Queue& q, const std::vector<broker::NewJob>& jobs) {
  QueueModel& m = q.model;
  if (m.limits().max_length > 0) {
    // Backpressure: the new distinct ids must fit, or the batch is refused and nothing written.
    std::set<std::string> adding;
    for (const broker::NewJob& job : jobs) {
      if (!m.Find(job.id)) adding.insert(job.id);
    }
    const int64_t backlog =
        static_cast<int64_t>(m.InState(St::kWaiting).size() + m.InState(St::kDelayed).size() +
                             m.InState(St::kRetrying).size());
    if (!adding.empty() && backlog + static_cast<int64_t>(adding.size()) > m.limits().max_length) {
      auto refused = broker_->Enqueue(m.name(), jobs);
      if (refused.ok()) return "enqueue past the maximum length was accepted";
      if (refused.status().code() != StatusCode::kQueueFull) {
        return "enqueue past the maximum length: " + refused.status().ToString();
      }
      return "";
    }
  }
  std::vector<broker::EnqueueReply> expected(jobs.size());
  std::set<std::string> in_batch;
  std::map<std::string, std::string> taken;  // key -> id of this batch that took it
  std::vector<bool> create(jobs.size(), false);
  // Unique keys first (unique_resolve): hits, debounced holders removed.
  for (size_t i = 0; i < jobs.size(); ++i) {
    const broker::NewJob& job = jobs[i];
    const bool exists = m.Find(job.id) != nullptr || in_batch.count(job.id) > 0;
    in_batch.insert(job.id);
    if (exists) continue;  // kExisted
    create[i] = true;
    if (!job.unique) continue;
    const std::string& key = job.unique->key;
    if (taken.count(key)) {
      expected[i] = {broker::EnqueueOutcome::kUniqueHeld, taken[key]};
      create[i] = false;
      continue;
    }
    auto holder_it = m.unique().find(key);
    std::string held;  // "", waiting, running, finished, gone
    if (holder_it != m.unique().end()) {
      const Job* holder = m.Find(holder_it->second.holder);
      if (!holder) {
        held = "gone";
      } else if (holder->st == St::kCompleted || holder->st == St::kDead) {
        held = "finished";
      } else if (holder->st == St::kActive || holder->st == St::kRetrying) {
        held = "running";
      } else {
        held = "waiting";
      }
    }
    if (job.unique->mode == UniqueOptions::Mode::kDebounce) {
      if (held == "waiting") m.Delete(holder_it->second.holder);
      taken[key] = job.id;
    } else if (held == "waiting" || held == "running" || (!held.empty() && holder_it->second.ttl)) {
      expected[i] = {broker::EnqueueOutcome::kUniqueHeld, holder_it->second.holder};
      create[i] = false;
    } else {
      taken[key] = job.id;
    }
  }
  std::vector<Job*> ready, first;  // first: LIFO jobs, queued at the head, the latest first
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!create[i]) continue;
    const broker::NewJob& job = jobs[i];
    const bool delayed = job.delay_ms > 0;
    Job& created = m.Create(job.id, job.priority, job.group, true);
    created.hooked = job.hooked;
    ++m.enqueued_total;
    if (!delayed) (job.lifo ? first : ready).push_back(&created);
    expected[i].outcome =
        delayed ? broker::EnqueueOutcome::kDelayed : broker::EnqueueOutcome::kWaiting;
    if (job.unique && taken[job.unique->key] == job.id) {
      const bool ttl = job.unique->mode == UniqueOptions::Mode::kTtl;
      m.unique()[job.unique->key] = UniqueHolder{job.id, ttl};
      if (!ttl) created.unique_key = job.unique->key;
    }
  }
  m.QueueAtTail(ready);
  std::reverse(first.begin(), first.end());
  m.QueueAtHead(first);

  auto replies = broker_->Enqueue(m.name(), jobs);
  if (!replies.ok()) return "enqueue failed: " + replies.status().ToString();
  if (replies->size() != jobs.size()) return "enqueue: wrong number of replies";
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& got = (*replies)[i];
    if (got.outcome != expected[i].outcome || got.holder_id != expected[i].holder_id) {
      std::ostringstream out;
      out << "enqueue of " << jobs[i].id << ": outcome " << static_cast<int>(got.outcome)
          << " holder '" << got.holder_id << "', model says "
          << static_cast<int>(expected[i].outcome) << " holder '" << expected[i].holder_id << "'";
      return out.str();
    }
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Claim: which jobs may start, in which order, under which limits.

// What release.lua does to the model: each job that still holds the lease (once per id, no
// cancel requested) goes back to the head, in the order given, its attempt not counted.
int64_t ModelRun::ModelRelease(QueueModel& m, const std::vector<broker::Lease>& leases) {
  std::vector<Job*> back;
  std::set<std::string> seen;
  for (const auto& lease : leases) {
    Job* job = m.Find(lease.id);
    if (job && job->st == St::kActive && job->token == lease.token && !job->cancel &&
        seen.insert(lease.id).second) {
      job->attempts -= 1;
      job->token = 0;
      job->overrun_mark = 0;
      back.push_back(job);
    }
  }
  m.QueueAtHead(back);
  return static_cast<int64_t>(back.size());
}

std::string ModelRun::DoClaim(Queue& q, int n, std::vector<std::string>* claimed_out,
                              const std::string& receipt) {
  QueueModel& m = q.model;
  if (!m.paused) {
    // Due delayed jobs, then due retrying ones, each in due order, join the tail.
    for (St st : {St::kDelayed, St::kRetrying}) {
      std::vector<Job*> due;
      for (auto& [id, job] : m.jobs()) {
        if (job.st == st && job.due) due.push_back(&job);
      }
      std::sort(due.begin(), due.end(),
                [](const Job* a, const Job* b) { return a->due_rank < b->due_rank; });
      m.QueueAtTail(due);
    }
  }
  std::vector<const Job*> waiting = m.InState(St::kWaiting);
  const bool any_aged =
      std::any_of(waiting.begin(), waiting.end(), [](const Job* j) { return j->aged; });
  Result<broker::ClaimResult> claim = Status(StatusCode::kInternal, "unset");
  if (receipt.empty()) {
    claim = broker_->Claim(m.name(), n, kLease);
  } else {
    broker::FlushRequest request;
    request.claim = n;
    request.lease = std::chrono::milliseconds(kLease);
    request.claim_receipt = receipt;
    auto flushed = broker_->Flush(m.name(), request);
    if (!flushed.ok()) return "claim failed: " + flushed.status().ToString();
    if (!flushed->claim_error.ok()) return "claim failed: " + flushed->claim_error.ToString();
    claim = std::move(*flushed->claim);
  }
  if (!claim.ok()) return "claim failed: " + claim.status().ToString();
  if (claim->paused != m.paused) return "claim: paused is " + std::to_string(claim->paused);
  if (m.paused) return claim->jobs.empty() ? "" : "claim: a paused queue handed out a job";
  const int64_t now = claim->now_ms;
  const int count = static_cast<int>(claim->jobs.size());
  if (count > n) return "claim: more jobs than asked for";
  std::map<std::string, int> per_group;
  std::vector<std::string> ungrouped;
  for (const auto& c : claim->jobs) {
    const Job* job = m.Find(c.id);
    if (!job || job->st != St::kWaiting) {
      return "claim handed out " + c.id + ", which the model has " +
             (job ? StName(job->st) : "nowhere");
    }
    if (c.attempt != job->attempts + 1) {
      return "claim: " + c.id + " attempt " + std::to_string(c.attempt) + ", model says " +
             std::to_string(job->attempts + 1);
    }
    if (c.restarted != (job->attempts == 0 && job->started)) {
      return "claim: " + c.id + " restarted flag wrong";
    }
    if (c.token <= m.last_token) return "claim: token " + std::to_string(c.token) + " not new";
    if (job->group.empty()) {
      ungrouped.push_back(c.id);
    } else {
      ++per_group[job->group];
    }
  }
  // Order: the ungrouped jobs taken are the first ones of the ungrouped order, and each group's
  // the first of that group (priority, then FIFO).
  if (!any_aged) {
    std::vector<const Job*> order;
    for (const Job* job : waiting) {
      if (job->group.empty()) order.push_back(job);
    }
    std::sort(order.begin(), order.end(), QueueModel::RunsBefore);
    for (size_t i = 0; i < ungrouped.size(); ++i) {
      if (i >= order.size() || order[i]->id != ungrouped[i]) {
        std::string want;
        for (size_t k = 0; k < std::min(order.size(), ungrouped.size()); ++k) {
          want += (k ? "," : "") + order[k]->id;
        }
        return "claim order: took " + JoinList(ungrouped, ",") + ", model order starts " + want;
      }
    }
    for (const auto& [group, k] : per_group) {
      std::vector<const Job*> in_group;
      for (const Job* job : waiting) {
        if (job->group == group) in_group.push_back(job);
      }
      std::sort(in_group.begin(), in_group.end(), QueueModel::RunsBefore);
      std::set<std::string> first;
      for (int i = 0; i < k && i < static_cast<int>(in_group.size()); ++i) {
        first.insert(in_group[i]->id);
      }
      for (const auto& c : claim->jobs) {
        const Job* job = m.Find(c.id);
        if (job->group == group && !first.count(c.id)) {
          return "claim order in group " + group + ": took " + c.id + " out of turn";
        }
      }
    }
  }
  // Limits.
  const Limits& limits = m.limits();
  const int64_t active_before = static_cast<int64_t>(m.InState(St::kActive).size());
  if (limits.concurrency > 0 && count > 0 && active_before + count > limits.concurrency) {
    return "claim broke the concurrency limit: " + std::to_string(active_before + count) +
           " active, limit " + std::to_string(limits.concurrency);
  }
  if (count > 0) q.starts.emplace_back(now, count);
  auto in_window = [&](const std::vector<std::pair<int64_t, int64_t>>& starts, int64_t window) {
    int64_t sum = 0;
    for (const auto& [t, k] : starts) {
      if (t > now - window) sum += k;
    }
    return sum;
  };
  if (limits.rate_max > 0 && in_window(q.starts, limits.rate_window_ms) > limits.rate_max) {
    return "claim broke the rate limit";
  }
  for (const auto& [group, k] : per_group) {
    int64_t active_in_group = 0;
    for (const Job* job : m.InState(St::kActive)) active_in_group += job->group == group;
    if (limits.group_concurrency > 0 && active_in_group + k > limits.group_concurrency) {
      return "claim broke the group concurrency limit of " + group;
    }
    q.group_starts[group].emplace_back(now, k);
    if (limits.group_rate_max > 0 &&
        in_window(q.group_starts[group], limits.group_rate_window_ms) > limits.group_rate_max) {
      return "claim broke the group rate limit of " + group;
    }
  }
  // Liveness: with no limit, a claim takes all it asked for while jobs wait.
  if (!limits.any_claim_limit()) {
    const int want = std::min<int>(n, static_cast<int>(waiting.size()));
    if (count != want) {
      return "claim took " + std::to_string(count) + " of " + std::to_string(want) +
             " waiting jobs with no limit set (a job is stuck)";
    }
  }
  for (const auto& c : claim->jobs) {
    Job* job = m.Find(c.id);
    job->st = St::kActive;
    job->attempts += 1;
    job->started = true;
    job->token = c.token;
    if (claimed_out) claimed_out->push_back(c.id);
  }
  for (const auto& c : claim->jobs) m.last_token = std::max(m.last_token, c.token);
  return "";
}

std::vector<broker::Lease> ModelRun::PickLeases(Queue& q, uint64_t r, bool allow_stale) {
  std::vector<const Job*> active = q.model.InState(St::kActive);
  std::vector<broker::Lease> leases;
  std::mt19937_64 rng(r);
  const size_t want = 1 + rng() % 3;
  for (size_t i = 0; i < want && !active.empty(); ++i) {
    const Job* job = Pick(active, rng());
    leases.push_back({job->id, job->token});
  }
  if (allow_stale && rng() % 4 == 0 && !q.model.jobs().empty()) {
    // A lease that is no longer held: the token before the job's own, or any token of a job that
    // holds none.
    auto it = q.model.jobs().begin();
    std::advance(it, rng() % q.model.jobs().size());
    const Job& job = it->second;
    leases.push_back({job.id, job.st == St::kActive ? job.token - 1 : 1});
  }
  return leases;
}

std::vector<std::string> ModelRun::PickIds(Queue& q, uint64_t r, St st, size_t max) {
  std::vector<const Job*> jobs = q.model.InState(st);
  std::mt19937_64 rng(r);
  std::vector<std::string> ids;
  const size_t want = 1 + rng() % max;
  for (size_t i = 0; i < want && !jobs.empty(); ++i) {
    const Job* job = Pick(jobs, rng());
    if (std::find(ids.begin(), ids.end(), job->id) == ids.end()) ids.push_back(job->id);
  }
  return ids;
}

// Retention and clean remove finished jobs by finish time, which the model does not know to the
// millisecond: it takes the survivors from Redis, checks their number, and the no-trace check
// (Check) then holds the removed ones to "every trace gone".
std::string ModelRun::ReconcileFinished(Queue& q, St st, int64_t keep, bool applied) {
  const std::string& zkey = st == St::kCompleted ? q.keys.completed() : q.keys.dead();
  std::vector<std::string> kept = Strings({"ZRANGE", zkey, "0", "-1"});
  std::set<std::string> kept_set(kept.begin(), kept.end());
  std::vector<const Job*> finished = q.model.InState(st);
  const int64_t have = static_cast<int64_t>(finished.size());
  // trim_finished removes at most 1000 jobs per call (delete_jobs.lua); the next call removes more.
  const int64_t expected = (applied && keep >= 0)
                               ? have - std::min<int64_t>(std::max<int64_t>(0, have - keep), 1000)
                               : have;
  if (static_cast<int64_t>(kept.size()) != expected) {
    return std::string("retention kept ") + std::to_string(kept.size()) + " " + StName(st) +
           " jobs, model says " + std::to_string(expected);
  }
  for (const Job* job : finished) {
    if (!kept_set.count(job->id)) q.model.Delete(job->id);
  }
  return "";
}

std::string ModelRun::DoComplete(Queue& q, const std::vector<broker::Lease>& leases, int64_t keep) {
  std::vector<broker::Completion> completions;
  std::vector<bool> expected;
  for (const auto& lease : leases) {
    completions.push_back({lease, "null"});
    Job* job = q.model.Find(lease.id);
    const bool ok = job && job->st == St::kActive && job->token == lease.token;
    expected.push_back(ok);
    if (ok) q.model.Finish(*job, St::kCompleted);
  }
  // complete.lua counts the flow jobs among them once every completion is written, in order.
  FlowSteps steps(q.model);
  std::set<std::string> counted;
  for (size_t i = 0; i < leases.size(); ++i) {
    const Job* job = q.model.Find(leases[i].id);
    if (expected[i] && !job->flow.empty() && counted.insert(job->id).second) {
      steps.Count(*job, true);
    }
  }
  steps.Settle();
  auto got = broker_->Complete(q.model.name(), completions, q.Policy(keep, -1));
  if (!got.ok()) return "complete failed: " + got.status().ToString();
  if (*got != expected) return "complete: accepted/refused differs from the model";
  return ReconcileFinished(q, St::kCompleted, keep,
                           std::any_of(expected.begin(), expected.end(), [](bool b) { return b; }));
}

std::string ModelRun::DoFail(Queue& q, const std::vector<broker::Lease>& leases,
                             const std::vector<int64_t>& delays, int64_t keep) {
  std::vector<broker::Failure> failures;
  std::vector<bool> expected;
  bool any_dead = false;
  std::vector<std::string> gone_dead;  // flow jobs gone dead, in order
  for (size_t i = 0; i < leases.size(); ++i) {
    failures.push_back({leases[i], R"({"attempt":1,"message":"model"})", delays[i]});
    Job* job = q.model.Find(leases[i].id);
    const bool ok = job && job->st == St::kActive && job->token == leases[i].token;
    expected.push_back(ok);
    if (!ok) continue;
    if (delays[i] >= 0 && !job->cancel) {
      job->st = St::kRetrying;
      job->token = 0;
      job->due = false;
      ++q.model.retried_total;
    } else {
      q.model.Finish(*job, St::kDead);
      any_dead = true;
      if (!job->flow.empty()) gone_dead.push_back(job->id);
    }
  }
  FlowSteps steps(q.model);
  for (const std::string& id : gone_dead) steps.Count(*q.model.Find(id), false);
  steps.Settle();
  auto got = broker_->Fail(q.model.name(), failures, q.Policy(-1, keep));
  if (!got.ok()) return "fail failed: " + got.status().ToString();
  if (*got != expected) return "fail: accepted/refused differs from the model";
  return ReconcileFinished(q, St::kDead, keep, any_dead);
}

std::string ModelRun::DoRecover(Queue& q, const std::vector<std::string>& ids, int max_stalls) {
  // The leases of `ids` expire, in that order.
  for (size_t i = 0; i < ids.size(); ++i) {
    Redis({"ZADD", q.keys.active(), "XX", std::to_string(1 + i), ids[i]});
  }
  std::vector<Job*> requeued;
  int64_t dead = 0;
  std::vector<std::string> gone_dead;  // flow jobs gone dead, in order
  for (const auto& id : ids) {
    Job* job = q.model.Find(id);
    job->stalls += 1;
    job->token = 0;
    job->overrun_mark = 0;
    if (job->stalls > max_stalls || job->cancel) {
      q.model.Finish(*job, St::kDead);
      ++dead;
      if (!job->flow.empty()) gone_dead.push_back(id);
    } else {
      requeued.push_back(job);
    }
  }
  q.model.QueueAtHead(requeued);
  FlowSteps steps(q.model);
  for (const std::string& id : gone_dead) steps.Count(*q.model.Find(id), false);
  steps.Settle();
  auto got = broker_->RecoverExpired(q.model.name(), max_stalls, 1000, q.Policy(-1, -1));
  if (!got.ok()) return "recover failed: " + got.status().ToString();
  if (got->requeued != static_cast<int64_t>(requeued.size()) || got->dead != dead) {
    return "recover: requeued " + std::to_string(got->requeued) + " dead " +
           std::to_string(got->dead) + ", model says " + std::to_string(requeued.size()) + " " +
           std::to_string(dead);
  }
  return "";
}

int64_t ModelRun::ModelRetryDead(QueueModel& m, const std::vector<std::string>& ids) {
  std::vector<Job*> moved, queued, held;
  std::set<std::string> seen;
  FlowSteps steps(m);
  for (const auto& id : ids) {
    Job* job = m.Find(id);
    if (!job || job->st != St::kDead || !seen.insert(id).second) continue;
    job->attempts = 0;
    job->stalls = 0;
    job->cancel = false;
    moved.push_back(job);
    // A parent its children failed or cancelled goes back to held (retry_dead.lua).
    // A batch's callback that never ran (failed, or cancelled) is held again too.
    bool hold = false;
    if (Flow* flow = job->is_parent ? steps.FindFlow(job->flow) : nullptr) {
      if (job->parent == "^") {
        const char mark = job->ref == "on_success" ? flow->os : flow->oc;
        hold = mark == 'f' || mark == 'x';
      } else {
        auto it = flow->joins.find(job->ref);
        hold = it != flow->joins.end() && (it->second.st == 'f' || it->second.st == 'x');
      }
    }
    (hold ? held : queued).push_back(job);
  }
  m.QueueAtTail(queued);
  for (Job* job : held) job->st = St::kHeld;
  for (Job* job : moved) {
    if (!job->flow.empty()) steps.Revive(*job);
  }
  for (Job* job : held) {
    Flow& flow = *steps.FindFlow(job->flow);
    if (job->ref == "on_complete" && job->parent == "^") {
      // Released at once when its batch has finished, else when it finishes.
      if (flow.st == "finished") {
        flow.oc = 'r';
        steps.ReleaseCallback(flow, job->flow, "on_complete");
      } else {
        flow.oc = 'w';
      }
      continue;
    }
    Join& join = flow.joins[JoinOf(*job)];
    if (job->parent == "^") {  // on_success: its join decides again
      if (join.fatal()) join.override = true;
      if (join.st == 'r') {
        flow.os = 'r';
        steps.ReleaseCallback(flow, job->flow, "on_success");
      } else {
        join.st = 'w';
        flow.os = 'w';
        steps.BatchCheck(job->flow);
        steps.Settle();
      }
      continue;
    }
    join.st = 'w';
    join.override = true;
    if (join.pending <= 0) {
      join.st = 'r';
      steps.Release(job->id);
    }
  }
  return static_cast<int64_t>(moved.size());
}

std::string ModelRun::DoRetryDead(Queue& q, const std::vector<std::string>& ids) {
  const int64_t moved = ModelRetryDead(q.model, ids);
  auto got = broker_->RetryDead(q.model.name(), ids, 1000);
  if (!got.ok()) return "retry_dead failed: " + got.status().ToString();
  if (*got != moved) {
    return "retry_dead moved " + std::to_string(*got) + ", model says " + std::to_string(moved);
  }
  return "";
}

// The largest batches the API allows, through every transition, on a queue of their own:
// a bulk enqueue of 10,000 jobs, all failed to dead in one call, all retried from dead in one
// call, then claimed and completed.
std::string ModelRun::DoLargestBatches() {
  Queue& q = *bulk_;
  std::vector<broker::NewJob> jobs(kLargestBulk);
  for (int i = 0; i < kLargestBulk; ++i) {
    jobs[i].id = "b" + std::to_string(next_id_++);
    jobs[i].body = R"({"t":"model","d":{}})";
  }
  std::string error = DoEnqueue(q, jobs);
  if (!error.empty()) return error;
  std::vector<std::string> claimed;
  for (int i = 0; i < kLargestBulk / 1000; ++i) {
    error = DoClaim(q, 1000, &claimed);
    if (!error.empty()) return error;
  }
  std::vector<broker::Lease> leases;
  for (const auto& id : claimed) leases.push_back({id, q.model.Find(id)->token});
  error = DoFail(q, leases, std::vector<int64_t>(leases.size(), -1), -1);
  if (!error.empty()) return error;
  error = DoRetryDead(q, claimed);
  if (!error.empty()) return error;
  error = Check(q);
  if (!error.empty()) return error;
  claimed.clear();
  for (int i = 0; i < kLargestBulk / 1000; ++i) {
    error = DoClaim(q, 1000, &claimed);
    if (!error.empty()) return error;
  }
  leases.clear();
  for (const auto& id : claimed) leases.push_back({id, q.model.Find(id)->token});
  error = DoComplete(q, leases, 0);
  if (!error.empty()) return error;
  // Retention removed 1000 of them (its bound per call); clean the rest, so that the checks after
  // every later step do not walk thousands of finished jobs.
  error = Check(q);
  if (!error.empty()) return error;
  for (int i = 0; i < kLargestBulk / 1000 + 1; ++i) {
    auto cleaned =
        broker_->Clean(q.model.name(), JobState::kCompleted, std::chrono::milliseconds(0), 1000);
    if (!cleaned.ok()) return "clean failed: " + cleaned.status().ToString();
    if (*cleaned == 0) break;
  }
  if (!Strings({"ZRANGE", q.keys.completed(), "0", "0"}).empty()) {
    return "clean left completed jobs of the bulk queue";
  }
  for (const Job* job : q.model.InState(St::kCompleted)) q.model.Delete(job->id);
  return "";
}

// Scripts called with an invalid argument refuse with an error and write nothing.
std::string ModelRun::DoInvalidCall(uint64_t r) {
  const broker::QueueKeys& k = main_->keys;
  struct Call {
    std::string script;
    std::vector<std::string> keys, args;
  };
  const broker::ScriptKeys claim_keys = broker::ClaimKeys(k);
  const broker::ScriptKeys recover_keys = broker::RecoverKeys(k);
  const broker::ScriptKeys retry_dead_keys = broker::RetryDeadKeys(k);
  const std::vector<Call> calls = {
      {"claim", claim_keys, {k.base(), "1", "3600000", "-1"}},
      {"claim", claim_keys, {k.base(), "1", "3600000", "0"}},
      {"claim", claim_keys, {k.base(), "0", "3600000", "1000"}},
      {"claim", claim_keys, {k.base(), "1", "0", "1000"}},
      {"recover", recover_keys, {k.base(), "-1", "1000", "10", "-1", "0"}},
      {"recover", recover_keys, {k.base(), "1", "0", "10", "-1", "0"}},
      {"retry_dead", retry_dead_keys, {k.base(), "0"}},
      {"retry_dead", retry_dead_keys, {k.base(), "1001"}},
  };
  const Call& call = Pick(calls, r);
  // Every key -> its content, and whether it has an expiry: such a key (a rate window, a unique
  // key in mode ttl) may expire between the two snapshots, which is no write. One read-only
  // script reads them all, so that no key expires halfway through a snapshot (time stands still
  // in a script). Content, not DUMP: a large hash or set is dumped in its hash table's order,
  // which an incremental rehash (done by reads and by Redis' cron) changes without any write.
  static const std::string kSnapshot = R"lua(
    local out = {}
    for _, key in ipairs(redis.call('KEYS', '*')) do
      local kind = redis.call('TYPE', key)['ok']
      local parts
      if kind == 'string' then
        parts = {redis.call('GET', key)}
      elseif kind == 'hash' then
        local flat = redis.call('HGETALL', key)
        parts = {}
        for i = 1, #flat, 2 do parts[#parts + 1] = flat[i] .. '\0' .. flat[i + 1] end
        table.sort(parts)
      elseif kind == 'set' then
        parts = redis.call('SMEMBERS', key)
        table.sort(parts)
      elseif kind == 'zset' then
        parts = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
      elseif kind == 'list' then
        parts = redis.call('LRANGE', key, 0, -1)
      else
        parts = {cjson.encode(redis.call('XRANGE', key, '-', '+'))}
      end
      out[#out + 1] = key
      out[#out + 1] = (redis.call('PTTL', key) >= 0 and 'x' or '-') .. kind .. '\n' ..
                      table.concat(parts, '\n')
    end
    return out
  )lua";
  auto snapshot = [&] {
    std::map<std::string, std::pair<std::string, bool>> out;
    const auto flat = Strings({"EVAL", kSnapshot, "0"});
    for (size_t i = 0; i + 1 < flat.size(); i += 2) {
      out[flat[i]] = {flat[i + 1].substr(1), flat[i + 1][0] == 'x'};
    }
    return out;
  };
  // The first key written ("" none).
  auto wrote = [](const auto& before, const auto& after) -> std::string {
    for (const auto& [key, value] : after) {
      auto it = before.find(key);
      if (it == before.end() || it->second.first != value.first) return key;
    }
    for (const auto& [key, value] : before) {
      if (!after.count(key) && !value.second) return key;
    }
    return "";
  };
  auto before = snapshot();
  broker::Command eval{"EVAL", broker::ScriptNamed(call.script).body};
  eval.Add(static_cast<long long>(call.keys.size()));
  for (const auto& key : call.keys) eval.Add(key);
  for (const auto& arg : call.args) eval.Add(arg);
  broker::Reply reply = Redis(eval);
  const std::string what = call.script + "(" + JoinList(call.args, ",") + ")";
  if (!reply.view().is_error()) return what + " was accepted";
  if (std::string key = wrote(before, snapshot()); !key.empty()) {
    return what + " was refused but wrote " + key;
  }
  return "";
}

}  // namespace taskq::model

namespace taskq::model {

// The relay of the queue "m"'s outbox into the callback queue "c". A crashing relay takes up to
// five entries under a 1 ms lease, creates their webhook jobs and dies before deleting them: the
// next relay applies them again, which must create nothing new.
std::string ModelRun::DoRelay(uint64_t r, bool crash) {
  const std::string& queue = main_->model.name();
  worker::CallbackRelayOptions options;
  options.callback_queue = "c";
  options.token = "relay";
  options.max_entries = 1 + static_cast<int32_t>(r % 5);
  if (!crash) {
    auto applied = worker::RelayOutbox(*broker_, queue, options);
    return applied.ok() ? "" : "relay: " + applied.status().ToString();
  }
  const std::string token = "crashed-" + std::to_string(++crashed_relays_);
  auto entries =
      broker_->TakeOutbox(queue, token, std::chrono::milliseconds(1), options.max_entries);
  if (!entries.ok()) return "relay take: " + entries.status().ToString();
  std::vector<broker::NewJob> jobs;
  for (const broker::OutboxEntry& entry : *entries) {
    auto job = worker::CallbackJobFor(queue, options.callback_queue, entry);
    if (!job.ok()) return "outbox entry " + entry.id + ": " + job.status().ToString();
    jobs.push_back(std::move(*job));
  }
  if (jobs.empty()) return "";
  auto created = broker_->Enqueue(options.callback_queue, jobs);
  return created.ok() ? "" : "relay enqueue: " + created.status().ToString();
}

}  // namespace taskq::model
