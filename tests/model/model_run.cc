#include "model_run.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

namespace taskq::model {
namespace {

constexpr int64_t kFarDelayMs = 3'600'000;  // delayed until the test makes it due
constexpr int64_t kUniqueTtlMs = 600'000;   // never expires within a run

}  // namespace

const char* OpName(OpKind kind) {
  static const char* const kNames[] = {
      "enqueue",     "enqueue_bulk", "enqueue_unique",  "claim",       "complete",
      "fail",        "postpone",     "progress",        "extend",      "expire_and_recover",
      "release",     "cancel",       "remove",          "retry_dead",  "retry_oldest_dead",
      "promote",     "make_due",     "pause",           "resume",      "clean",
      "set_limits",  "invalid_call", "largest_batches", "lost_claim",  "overrun",
      "relay",       "relay_crash",  "pause_all",       "resume_all",  "list_page",
      "submit_flow", "submit_batch", "batch_add",       "batch_close", "batch_cancel"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(OpKind::kCount));
  return kNames[static_cast<size_t>(kind)];
}

// A queue as the run sees it: the model, its keys, and the starts each rate window counts.
ModelRun::ModelRun(testing::RedisServer& server) : server_(server) {
  redis_ = server_.Connect();
  broker::BrokerOptions options;
  options.redis_url = server_.url();
  broker_ = std::move(*broker::OpenBroker(options));
}

ModelRun::~ModelRun() = default;

broker::Reply ModelRun::Redis(const broker::Command& command) {
  auto reply = redis_->Run(command);
  if (!reply.ok()) std::abort();  // the test's own server: a transport error is a broken test
  return std::move(*reply);
}

std::vector<std::string> ModelRun::Strings(const broker::Command& command) {
  broker::Reply reply = Redis(command);
  std::vector<std::string> out;
  for (size_t i = 0; i < reply.view().size(); ++i) out.emplace_back(reply.view()[i].str());
  return out;
}

void ModelRun::Reset(const EpisodeOptions& options) {
  Redis({"FLUSHALL"});
  Redis({"SCRIPT", "FLUSH"});  // a replaced script must be loaded anew
  main_ = std::make_unique<Queue>("m");
  bulk_ = std::make_unique<Queue>("b");
  callback_keys_ = std::make_unique<broker::QueueKeys>("taskq", "c");
  for (const Queue* q : {main_.get(), bulk_.get()}) {
    if (!broker_->RegisterQueue(q->model.name()).ok()) std::abort();  // the test's own server
  }
  next_id_ = 0;
  next_flow_ = 0;
  due_counter_ = 0;
  listing_.reset();
  if (options.start_sequences_below_bound > 0) {
    const int64_t start = 2147483647 - options.start_sequences_below_bound;
    Redis(
        {"HSET", main_->keys.meta(), "seq", std::to_string(start), "hseq", std::to_string(start)});
  }
}

Op ModelRun::Generate(std::mt19937_64& rng) {
  // Weights: the common transitions most, the rare and costly ones now and then.
  static const std::vector<std::pair<OpKind, int>> kWeights = {
      {OpKind::kEnqueue, 14},         {OpKind::kEnqueueBulk, 5},    {OpKind::kEnqueueUnique, 7},
      {OpKind::kClaim, 16},           {OpKind::kComplete, 9},       {OpKind::kFail, 7},
      {OpKind::kPostpone, 3},         {OpKind::kProgress, 3},       {OpKind::kExtend, 3},
      {OpKind::kExpireAndRecover, 4}, {OpKind::kRelease, 3},        {OpKind::kCancel, 3},
      {OpKind::kRemove, 3},           {OpKind::kRetryDead, 4},      {OpKind::kRetryOldestDead, 2},
      {OpKind::kPromote, 3},          {OpKind::kMakeDue, 5},        {OpKind::kPause, 1},
      {OpKind::kResume, 2},           {OpKind::kClean, 2},          {OpKind::kSetLimits, 3},
      {OpKind::kInvalidCall, 3},      {OpKind::kLargestBatches, 1}, {OpKind::kLostClaim, 2},
      {OpKind::kOverrun, 3},          {OpKind::kRelay, 4},          {OpKind::kRelayCrash, 1},
      {OpKind::kPauseAll, 1},         {OpKind::kResumeAll, 2},      {OpKind::kListPage, 4},
      {OpKind::kSubmitFlow, 6},       {OpKind::kSubmitBatch, 3},    {OpKind::kBatchAdd, 2},
      {OpKind::kBatchClose, 2},       {OpKind::kBatchCancel, 1},
  };
  int total = 0;
  for (const auto& [kind, weight] : kWeights) total += weight;
  int pick = static_cast<int>(rng() % total);
  Op op;
  for (const auto& [kind, weight] : kWeights) {
    if (pick < weight) {
      op.kind = kind;
      break;
    }
    pick -= weight;
  }
  for (auto& r : op.r) r = rng();
  return op;
}

// ---------------------------------------------------------------------------------------------

std::string ModelRun::Apply(const Op& op) {
  Queue& q = *main_;
  QueueModel& m = q.model;
  std::mt19937_64 rng(op.r[0]);
  auto random_job = [&](bool unique_batch) {
    broker::NewJob job;
    const uint64_t r = rng();
    if (!unique_batch && r % 10 == 0 && !m.jobs().empty()) {
      auto it = m.jobs().begin();
      std::advance(it, rng() % m.jobs().size());
      job.id = it->first;  // an id that exists
    } else if (!unique_batch && r % 10 == 1 && !m.gone().empty()) {
      auto it = m.gone().begin();
      std::advance(it, rng() % m.gone().size());
      job.id = *it;  // an id used before, now gone
      // A flow job's id is never reused for a job outside its flow.
      if (job.id.find('.') != std::string::npos) job.id = "j" + std::to_string(next_id_++);
    } else {
      job.id = "j" + std::to_string(next_id_++);
    }
    job.hooked = r / 10 % 4 == 0;  // from r: the draws below stay those of earlier versions
    job.lifo = r / 40 % 5 == 0;
    job.body = job.hooked ? R"({"t":"model","d":{},"o":{"cb":"http://cb.example/"}})"
                          : R"({"t":"model","d":{}})";
    job.priority = Pick(std::vector<int>{-2, 0, 0, 0, 0, 3}, rng());
    job.delay_ms = rng() % 4 == 0 ? kFarDelayMs : 0;
    job.group = Pick(std::vector<std::string>{"", "", "", "g1", "g2", "g3"}, rng());
    return job;
  };
  switch (op.kind) {
    case OpKind::kEnqueue:
      return DoEnqueue(q, {random_job(false)});
    case OpKind::kEnqueueBulk: {
      std::vector<broker::NewJob> jobs;
      const int n = 2 + static_cast<int>(op.r[1] % 15);
      for (int i = 0; i < n; ++i) jobs.push_back(random_job(false));
      return DoEnqueue(q, jobs);
    }
    case OpKind::kEnqueueUnique: {
      std::vector<broker::NewJob> jobs;
      const int n = 1 + static_cast<int>(op.r[1] % 3);
      for (int i = 0; i < n; ++i) {
        broker::NewJob job = random_job(true);
        UniqueOptions unique;
        unique.key = Pick(std::vector<std::string>{"k1", "k2", "k3"}, rng());
        unique.mode = Pick(std::vector<UniqueOptions::Mode>{UniqueOptions::Mode::kUntilCompleted,
                                                            UniqueOptions::Mode::kTtl,
                                                            UniqueOptions::Mode::kDebounce},
                           rng());
        if (unique.mode == UniqueOptions::Mode::kTtl) {
          unique.ttl = std::chrono::milliseconds(kUniqueTtlMs);
        }
        job.unique = unique;
        jobs.push_back(job);
      }
      return DoEnqueue(q, jobs);
    }
    case OpKind::kClaim:
      return DoClaim(q, 1 + static_cast<int>(op.r[1] % 8));
    case OpKind::kComplete:
      return DoComplete(q, PickLeases(q, op.r[1], true),
                        Pick(std::vector<int64_t>{-1, -1, 0, 1, 3}, op.r[2]));
    case OpKind::kFail: {
      auto leases = PickLeases(q, op.r[1], true);
      std::vector<int64_t> delays;
      for (size_t i = 0; i < leases.size(); ++i) {
        delays.push_back(rng() % 3 == 0 ? -1 : kFarDelayMs);
      }
      return DoFail(q, leases, delays, Pick(std::vector<int64_t>{-1, -1, 0, 1, 3}, op.r[2]));
    }
    case OpKind::kPostpone: {
      auto leases = PickLeases(q, op.r[1], true);
      std::vector<broker::Postponement> postponements;
      std::vector<bool> expected;
      std::vector<std::string> handed_back;
      for (const auto& lease : leases) {
        // Half are hand-backs of a type the worker has no handler for (1 s to 60 s of backoff).
        const bool handback = rng() % 2 == 0;
        postponements.push_back({lease, kFarDelayMs, "postponed", handback});
        Job* job = m.Find(lease.id);
        const bool ok = job && job->st == St::kActive && job->token == lease.token && !job->cancel;
        expected.push_back(ok);
        if (ok) {
          job->st = St::kDelayed;
          job->attempts -= 1;
          job->token = 0;
          job->due = false;
          if (handback) handed_back.push_back(lease.id);
        }
      }
      auto got = broker_->Postpone(m.name(), postponements, 100);
      if (!got.ok()) return "postpone failed: " + got.status().ToString();
      if (*got != expected) return "postpone: accepted/refused differs from the model";
      // A hand-back is due within 1 to 60 s, which a long episode reaches by itself: the model
      // makes jobs due only on purpose (make_due), so the due time is checked, then moved far.
      const int64_t now_ms = Redis({"TIME"}).view()[0].AsInt() * 1000;
      for (const std::string& id : handed_back) {
        const int64_t due = Redis({"ZSCORE", q.keys.delayed(), id}).view().AsInt();
        if (due < now_ms || due > now_ms + 61'000) {
          return "hand-back of " + id + " is due at " + std::to_string(due) + ", not within 60 s";
        }
        Redis({"ZADD", q.keys.delayed(), "XX", std::to_string(now_ms + kFarDelayMs), id});
      }
      return "";
    }
    case OpKind::kProgress: {
      broker::FlushRequest request;
      for (const auto& lease : PickLeases(q, op.r[1], true)) {
        request.progress.push_back({lease, R"({"pct":50})", {"a line"}});
      }
      auto got = broker_->Flush(m.name(), request);
      if (!got.ok()) return "progress failed: " + got.status().ToString();
      return got->progress_error.ok() ? "" : "progress: " + got->progress_error.ToString();
    }
    case OpKind::kExtend: {
      auto leases = PickLeases(q, op.r[1], true);
      std::set<std::string> lost;
      for (const auto& lease : leases) {
        const Job* job = m.Find(lease.id);
        if (!job || job->st != St::kActive || job->token != lease.token) lost.insert(lease.id);
      }
      // A job named twice, once with a stale lease, is reported lost for the stale one only.
      for (const auto& lease : leases) {
        const Job* job = m.Find(lease.id);
        if (job && job->st == St::kActive && job->token == lease.token) lost.erase(lease.id);
      }
      auto got = broker_->ExtendLeases(m.name(), leases, kLease);
      if (!got.ok()) return "extend failed: " + got.status().ToString();
      std::set<std::string> got_lost(got->lost.begin(), got->lost.end());
      for (const auto& lease : leases) {
        const Job* job = m.Find(lease.id);
        if (job && job->st == St::kActive && job->token == lease.token) got_lost.erase(lease.id);
      }
      return got_lost == lost ? "" : "extend: lost leases differ from the model";
    }
    case OpKind::kExpireAndRecover: {
      auto ids = PickIds(q, op.r[1], St::kActive, 3);
      if (ids.empty()) return "";
      return DoRecover(q, ids, Pick(std::vector<int>{0, 1, 3}, op.r[2]));
    }
    case OpKind::kLostClaim: {
      // A claim whose reply the worker never saw: it hands back what the receipt names, which
      // release puts at the head in id order (lost_claim.lua lists them so).
      std::vector<std::string> claimed;
      const std::string receipt = "model:" + std::to_string(++receipts_);
      if (std::string error = DoClaim(q, 1 + static_cast<int>(op.r[1] % 8), &claimed, receipt);
          !error.empty()) {
        return error;
      }
      std::sort(claimed.begin(), claimed.end());
      std::vector<broker::Lease> leases;
      for (const std::string& id : claimed) leases.push_back({id, m.Find(id)->token});
      // Sometimes one of them finished meanwhile (another attempt of the worker's batch).
      if (!leases.empty() && op.r[2] % 3 == 0) {
        if (std::string error = DoComplete(q, {leases.front()}, -1); !error.empty()) return error;
      }
      const int64_t expected = ModelRelease(m, leases);
      auto got = broker_->ReleaseLostClaim(m.name(), receipt);
      if (!got.ok()) return "release of a lost claim failed: " + got.status().ToString();
      return *got == expected ? "" : "lost claim: count differs";
    }
    case OpKind::kOverrun: {
      // Marks (a running job past its timeout) and clears (its handler returned), with the
      // current lease, a stale one, or for a job that is not running.
      std::vector<broker::OverrunNotice> notices;
      std::vector<int> expected;
      const int n = 1 + static_cast<int>(op.r[1] % 3);
      for (int i = 0; i < n; ++i) {
        const uint64_t r = op.r[2] >> (8 * i);
        std::string id = "nobody";
        if (!m.jobs().empty()) {
          auto it = m.jobs().begin();
          std::advance(it, (r >> 4) % m.jobs().size());
          id = it->first;
        }
        Job* job = m.Find(id);
        int64_t token = job ? (job->token ? job->token : job->overrun_mark) : 0;
        if (r % 5 == 0 || token == 0) token = m.last_token + 1;  // one no claim handed out
        const bool mark = r % 2 == 0;
        int done = 0;
        if (mark && job && job->st == St::kActive && job->token == token) {
          if (job->overrun_mark != token) job->overrun_mark = token;  // a mark is kept as made
          done = 1;
        } else if (!mark && job && job->overrun_mark == token) {
          job->overrun_mark = 0;
          done = 1;
        }
        notices.push_back({{id, token}, mark ? 1 + static_cast<int64_t>(r % 1000) : 0});
        expected.push_back(done);
      }
      broker::FlushRequest request;
      request.overruns = notices;
      auto flushed = broker_->Flush(m.name(), request);
      if (!flushed.ok()) return "overrun failed: " + flushed.status().ToString();
      if (!flushed->overruns_error.ok()) return "overrun: " + flushed->overruns_error.ToString();
      for (size_t i = 0; i < expected.size(); ++i) {
        if (flushed->overrun.at(i) != (expected[i] == 1)) {
          return "overrun of " + notices[i].lease.id + ": outcome differs";
        }
      }
      return "";
    }
    case OpKind::kRelease: {
      auto leases = PickLeases(q, op.r[1], true);
      const int64_t expected = ModelRelease(m, leases);
      auto got = broker_->Release(m.name(), leases);
      if (!got.ok()) return "release failed: " + got.status().ToString();
      return *got == expected ? "" : "release: count differs";
    }
    case OpKind::kCancel:
    case OpKind::kRemove: {
      const bool cancel = op.kind == OpKind::kCancel;
      std::string id = "nobody";
      if (!m.jobs().empty() && op.r[1] % 8 != 0) {
        auto it = m.jobs().begin();
        std::advance(it, op.r[2] % m.jobs().size());
        id = it->first;
      }
      Job* job = m.Find(id);
      RemoveOutcome expected = RemoveOutcome::kNotFound;
      if (job) {
        const bool finished = job->st == St::kCompleted || job->st == St::kDead;
        if (job->st == St::kActive) {
          expected = cancel ? RemoveOutcome::kStopRequested : RemoveOutcome::kRefused;
          if (cancel) job->cancel = true;
        } else if (cancel && finished) {
          expected = RemoveOutcome::kRefused;
        } else if (!finished && !job->flow.empty()) {
          // remove.lua: everything undecided below it is cancelled, then it goes dead
          // (cancel) or away (remove), counted dead in its parent's join.
          expected = RemoveOutcome::kRemoved;
          FlowSteps steps(m);
          steps.CancelBelow(job->flow, job->ref);
          if (job->parent == "^") steps.CallbackDropped(*job);
          const Job counted = *job;
          if (cancel) {
            steps.MakeDead(*job);
          } else {
            m.Delete(id);
          }
          steps.Count(counted, false);
          steps.Settle();
        } else {
          expected = RemoveOutcome::kRemoved;
          m.Delete(id);
        }
      }
      auto got = broker_->Remove(
          m.name(), id, cancel ? broker::RemoveMode::kCancel : broker::RemoveMode::kRemove);
      if (!got.ok()) return "remove failed: " + got.status().ToString();
      return *got == expected ? "" : "remove/cancel of " + id + ": outcome differs";
    }
    case OpKind::kRetryDead: {
      auto ids = PickIds(q, op.r[1], St::kDead, 4);
      if (op.r[2] % 3 == 0) ids.push_back("nobody");
      if (!ids.empty() && op.r[2] % 4 == 1) ids.push_back(ids.front());
      if (ids.empty()) return "";
      return DoRetryDead(q, ids);
    }
    case OpKind::kRetryOldestDead: {
      const int limit = 1 + static_cast<int>(op.r[1] % 4);
      auto oldest = Strings({"ZRANGE", q.keys.dead(), "0", std::to_string(limit - 1)});
      for (const auto& id : oldest) {
        if (!m.Find(id)) return "dead holds " + id + ", unknown to the model";
      }
      const int64_t moved = ModelRetryDead(m, oldest);
      auto got = broker_->RetryDead(m.name(), {}, limit);
      if (!got.ok()) return "retry_dead failed: " + got.status().ToString();
      return *got == moved ? "" : "retry_dead (oldest): count";
    }
    case OpKind::kPromote: {
      auto ids = PickIds(q, op.r[1], op.r[2] % 2 ? St::kDelayed : St::kRetrying, 1);
      std::string id = ids.empty() ? "nobody" : ids.front();
      Job* job = m.Find(id);
      const bool expected = job != nullptr;
      if (job) m.QueueAtTail({job});
      auto got = broker_->Promote(m.name(), id);
      if (!got.ok()) return "promote failed: " + got.status().ToString();
      return *got == expected ? "" : "promote of " + id + ": outcome differs";
    }
    case OpKind::kMakeDue: {
      for (St st : {St::kDelayed, St::kRetrying}) {
        for (const auto& id : PickIds(q, op.r[st == St::kDelayed ? 1 : 2], st, 3)) {
          Job* job = m.Find(id);
          if (job->due) continue;
          job->due = true;
          job->due_rank = ++due_counter_;
          Redis({"ZADD", st == St::kDelayed ? q.keys.delayed() : q.keys.retry(), "XX",
                 std::to_string(1000 + due_counter_), id});
        }
      }
      return "";
    }
    case OpKind::kPauseAll:
    case OpKind::kResumeAll: {
      const bool pause = op.kind == OpKind::kPauseAll;
      int64_t expected = 0;
      for (Queue* each : {main_.get(), bulk_.get()}) {
        expected += each->model.paused != pause ? 1 : 0;
        each->model.paused = pause;
      }
      // The callback queue "c" is in the registry once a relay wrote to it: its flag is read.
      const broker::Reply c_paused = Redis({"HGET", callback_keys_->meta(), "paused"});
      const bool c_registered =
          Redis({"SISMEMBER", broker::QueueRegistryKey("taskq"), "c"}).view().AsInt() == 1;
      if (c_registered && (c_paused.view().str() == "1") != pause) ++expected;
      auto got = broker_->SetAllPaused(pause);
      if (!got.ok()) return "pause all failed: " + got.status().ToString();
      return *got == expected ? ""
                              : "pause/resume all: " + std::to_string(*got) + " changed, " +
                                    std::to_string(expected) + " expected";
    }
    case OpKind::kPause:
    case OpKind::kResume: {
      const bool pause = op.kind == OpKind::kPause;
      const bool expected = m.paused != pause;
      m.paused = pause;
      auto got = broker_->SetPaused(m.name(), pause);
      if (!got.ok()) return "pause failed: " + got.status().ToString();
      return *got == expected ? "" : "pause/resume: changed flag differs";
    }
    case OpKind::kClean: {
      const St st = op.r[1] % 2 ? St::kCompleted : St::kDead;
      const int64_t before = static_cast<int64_t>(m.InState(st).size());
      auto got =
          broker_->Clean(m.name(), st == St::kCompleted ? JobState::kCompleted : JobState::kDead,
                         std::chrono::milliseconds(0), 1000);
      if (!got.ok()) return "clean failed: " + got.status().ToString();
      const int64_t kept = static_cast<int64_t>(
          Strings({"ZRANGE", st == St::kCompleted ? q.keys.completed() : q.keys.dead(), "0", "-1"})
              .size());
      if (*got != before - kept) return "clean: reported count differs from what it removed";
      return ReconcileFinished(q, st, kept, true);
    }
    case OpKind::kSetLimits: {
      QueueLimits limits;
      Limits model;
      if (op.r[1] % 3 == 0) {
        model.rate_max = limits.rate.max = 3;
        model.rate_window_ms = 50;
        limits.rate.window = std::chrono::milliseconds(50);
      }
      if (op.r[1] / 3 % 3 == 0) model.concurrency = limits.concurrency = 1 + op.r[2] % 4;
      if (op.r[1] / 9 % 3 == 0) {
        model.group_rate_max = limits.group_rate.max = 1;
        model.group_rate_window_ms = 30;
        limits.group_rate.window = std::chrono::milliseconds(30);
      }
      if (op.r[1] / 27 % 3 == 0) {
        model.group_concurrency = limits.group_concurrency = 1 + op.r[2] / 4 % 2;
      }
      if (op.r[1] / 324 % 2 == 0) model.max_length = limits.max_length = 2 + op.r[2] / 8 % 4;
      if (op.r[1] / 81 % 4 == 0) {
        model.aging_ms = 1000;
        limits.priority_aging = std::chrono::milliseconds(1000);
      }
      m.limits() = model;
      q.starts.clear();
      q.group_starts.clear();
      Status s = broker_->SetLimits(m.name(), limits);
      return s.ok() ? "" : "set limits failed: " + s.ToString();
    }
    case OpKind::kInvalidCall:
      return DoInvalidCall(op.r[1]);
    case OpKind::kLargestBatches:
      return DoLargestBatches();
    case OpKind::kRelay:
      return DoRelay(op.r[1], false);
    case OpKind::kRelayCrash:
      return DoRelay(op.r[1], true);
    case OpKind::kListPage:
      return DoListPage(op.r[1]);
    case OpKind::kSubmitFlow:
      return DoSubmitFlow(op.r[1]);
    case OpKind::kSubmitBatch:
      return DoSubmitBatch(op.r[1]);
    case OpKind::kBatchAdd:
      return DoBatchAdd(op.r[1]);
    case OpKind::kBatchClose:
    case OpKind::kBatchCancel: {
      std::mt19937_64 pick(op.r[1]);
      const std::string key = PickBatch(pick);
      return op.kind == OpKind::kBatchClose ? DoBatchClose(key) : DoBatchCancel(key);
    }
    case OpKind::kCount:
      break;
  }
  return "unknown operation";
}

// ---------------------------------------------------------------------------------------------
// Listings by cursor (taskq/job_cursor.h) while the state changes under them.

std::map<std::string, std::string> ModelRun::Scores(JobState state) {
  const broker::QueueKeys& k = main_->keys;
  const std::string& key = state == JobState::kDelayed     ? k.delayed()
                           : state == JobState::kRetrying  ? k.retry()
                           : state == JobState::kActive    ? k.active()
                           : state == JobState::kCompleted ? k.completed()
                           : state == JobState::kHeld      ? k.held()
                                                           : k.dead();
  const std::vector<std::string> flat = Strings({"ZRANGE", key, "0", "-1", "WITHSCORES"});
  std::map<std::string, std::string> scores;
  for (size_t i = 0; i + 1 < flat.size(); i += 2) scores[flat[i]] = flat[i + 1];
  return scores;
}

void ModelRun::TrackListing() {
  if (!listing_) return;
  const std::map<std::string, std::string> now = Scores(listing_->state);
  std::erase_if(listing_->stayed, [&](const auto& entry) {
    auto it = now.find(entry.first);
    return it == now.end() || it->second != entry.second;
  });
}

std::string ModelRun::DoListPage(uint64_t r) {
  if (!listing_) {
    static constexpr JobState kStates[] = {JobState::kDelayed, JobState::kRetrying,
                                           JobState::kActive,  JobState::kCompleted,
                                           JobState::kDead,    JobState::kHeld};
    Listing l;
    l.state = kStates[r % 6];
    l.order = r / 5 % 2 == 0 ? ListOrder::kDefault : ListOrder::kReversed;
    const bool newest_first = l.state == JobState::kCompleted || l.state == JobState::kDead;
    l.descending = newest_first != (l.order == ListOrder::kReversed);
    l.limit = 1 + static_cast<int64_t>(r / 10 % 2);
    l.stayed = Scores(l.state);
    listing_ = std::move(l);
  }
  Listing& l = *listing_;
  auto page = broker_->ListJobs(main_->model.name(), l.state, l.next, l.limit, l.order);
  if (!page.ok()) return "list page: " + page.status().ToString();
  if (page->after.size() != page->jobs.size()) return "list page: a cursor per job expected";
  for (const JobCursor& key : page->after) {
    if (!key.keyed()) return "list page: an offset cursor for a sorted set";
    const std::pair<double, std::string> here(std::stod(key.after_score), key.after_id);
    if (l.last && !(l.descending ? here < *l.last : *l.last < here)) {
      return "list page: " + key.after_id + " is out of order after " + l.last->second;
    }
    l.last = here;
    ++l.seen[key.after_id];
  }
  if (!page->after.empty()) l.next = page->after.back();
  if (static_cast<int64_t>(page->jobs.size()) == l.limit) return "";
  // The end: every job that stayed, listed once.
  for (const auto& [id, score] : l.stayed) {
    if (l.seen[id] != 1) {
      return "list page: " + id + " stayed " + JobStateName(l.state) + " but was listed " +
             std::to_string(l.seen[id]) + " times";
    }
  }
  listing_.reset();
  return "";
}

// ---------------------------------------------------------------------------------------------
// The invariants, read straight from Redis.

std::string ModelRun::CheckAll() {
  TrackListing();
  std::string error = Check(*main_);
  if (!error.empty()) return error;
  error = Check(*bulk_);
  if (!error.empty()) return error;
  error = CheckFlows(*main_);
  if (!error.empty()) return error;
  return CheckCallbacks();
}

// Every job that can still run must run: limits off, the queue resumed, every delay over, every
// lease expired; then claim and complete until nothing is left.
std::string ModelRun::Drain() {
  Queue& q = *main_;
  QueueModel& m = q.model;
  while (listing_) {  // the listing under way ends first
    if (std::string error = DoListPage(0); !error.empty()) return "drain: " + error;
  }
  m.paused = false;
  if (auto s = broker_->SetPaused(m.name(), false); !s.ok()) return s.status().ToString();
  m.limits() = Limits{};
  if (Status s = broker_->SetLimits(m.name(), QueueLimits{}); !s.ok()) return s.ToString();
  // Every open batch is closed: its callbacks wait for that.
  std::vector<std::string> open;
  for (const auto& [key, flow] : m.flows()) {
    if (flow.batch && flow.open) open.push_back(key);
  }
  for (const std::string& key : open) {
    if (std::string error = DoBatchClose(key); !error.empty()) return "drain: " + error;
  }
  // Rounds: a flow parent released by the last completions may be delayed in turn.
  for (int pass = 0; pass < 20; ++pass) {
    bool any = false;
    for (St st : {St::kDelayed, St::kRetrying}) {
      for (const Job* job : m.InState(st)) {
        Job* j = m.Find(job->id);
        if (j->due) continue;
        any = true;
        j->due = true;
        j->due_rank = ++due_counter_;
        Redis({"ZADD", st == St::kDelayed ? q.keys.delayed() : q.keys.retry(), "XX",
               std::to_string(1000 + due_counter_), j->id});
      }
    }
    if (pass > 0 && !any) break;
    if (pass == 0) {
      std::vector<std::string> active;
      for (const Job* job : m.InState(St::kActive)) active.push_back(job->id);
      if (!active.empty()) {
        std::string error = DoRecover(q, active, 1000);
        if (!error.empty()) return "drain: " + error;
      }
    }
    for (int round = 0; round < 10000; ++round) {
      std::vector<std::string> claimed;
      std::string error = DoClaim(q, 50, &claimed);
      if (!error.empty()) return "drain: " + error;
      if (claimed.empty()) break;
      std::vector<broker::Lease> leases;
      for (const auto& id : claimed) leases.push_back({id, m.Find(id)->token});
      error = DoComplete(q, leases, -1);
      if (!error.empty()) return "drain: " + error;
    }
  }
  // Every callback owed is relayed: a crashed relay's lease (1 ms) has expired.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (std::string error = DoRelay(0, false); !error.empty()) return "drain: " + error;
  if (Redis({"XLEN", q.keys.outbox()}).view().AsInt() != 0) return "drain: the outbox is not empty";
  for (St st : {St::kWaiting, St::kDelayed, St::kRetrying, St::kActive, St::kHeld}) {
    if (!m.InState(st).empty()) {
      return std::string("drain: ") + m.InState(st).front()->id + " is still " + StName(st) +
             " (stuck)";
    }
  }
  return CheckAll();
}

EpisodeResult ModelRun::RunEpisode(const EpisodeOptions& options) {
  EpisodeResult result;
  Reset(options);
  std::mt19937_64 rng(options.seed);
  for (int step = 0; step < options.max_steps; ++step) {
    Op op = Generate(rng);
    result.ops.push_back(op);
    ++result.counts[static_cast<size_t>(op.kind)];
    std::string error = Apply(op);
    if (error.empty()) error = CheckAll();
    if (!error.empty()) {
      result.failed = true;
      result.failed_at_step = step;
      result.message = std::string(OpName(op.kind)) + ": " + error;
      return result;
    }
  }
  std::string error = Drain();
  if (!error.empty()) {
    result.failed = true;
    result.failed_at_step = options.max_steps;
    result.message = error;
  }
  return result;
}

std::string ModelRun::Replay(const EpisodeOptions& options, const std::vector<Op>& ops) {
  Reset(options);
  for (size_t i = 0; i < ops.size(); ++i) {
    std::string error = Apply(ops[i]);
    if (error.empty()) error = CheckAll();
    if (!error.empty())
      return "step " + std::to_string(i) + " " + OpName(ops[i].kind) + ": " + error;
  }
  return Drain();
}

std::vector<Op> ModelRun::Shrink(const EpisodeOptions& options, std::vector<Op> ops) {
  // Delta debugging: drop chunks of steps, halving the chunk until single steps, while the
  // sequence still fails.
  for (size_t chunk = std::max<size_t>(1, ops.size() / 2); chunk >= 1; chunk /= 2) {
    bool removed = true;
    while (removed) {
      removed = false;
      for (size_t start = 0; start < ops.size(); start += chunk) {
        std::vector<Op> shorter(ops.begin(), ops.begin() + start);
        shorter.insert(shorter.end(), ops.begin() + std::min(ops.size(), start + chunk), ops.end());
        if (shorter.size() < ops.size() && !Replay(options, shorter).empty()) {
          ops = std::move(shorter);
          removed = true;
          break;
        }
      }
    }
    if (chunk == 1) break;
  }
  return ops;
}

}  // namespace taskq::model
