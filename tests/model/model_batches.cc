// The model test's batches: creating one with random members and callbacks, adding to it,
// closing and cancelling it (batch_commit.lua, batch_close.lua, batch_cancel.lua), held to the
// model's steps (flow_model.h). Finishing and retrying members is shared with flows.
#include <random>

#include "common/flow_ids.h"
#include "model_run.h"

namespace taskq::model {
namespace {

constexpr int64_t kFarDelayMs = 3'600'000;  // delayed until the test makes it due
constexpr auto kBatchRetention = std::chrono::hours(1);

}  // namespace

broker::NewJob ModelRun::BatchJob(const std::string& id, std::mt19937_64& rng, bool callback,
                                  bool plain) {
  broker::NewJob job;
  job.id = id;
  job.body = R"({"t":"model","d":{}})";
  if (plain) return job;  // batch_commit.lua's path for plain members
  job.hooked = rng() % 5 == 0;
  job.body = job.hooked ? R"({"t":"model","d":{},"o":{"cb":"http://cb.example/"}})"
                        : R"({"t":"model","d":{}})";
  job.priority = Pick(std::vector<int>{-2, 0, 0, 3}, rng());
  job.delay_ms = !callback && rng() % 6 == 0 ? kFarDelayMs : 0;
  job.group = Pick(std::vector<std::string>{"", "", "", "g1"}, rng());
  job.lifo = rng() % 6 == 0;
  return job;
}

// Writes `jobs` into the model as batch_commit.lua writes them: members queued (or delayed),
// callbacks held.
void ModelRun::ModelBatchJobs(QueueModel& m, const std::string& key, const std::string& gen,
                              const std::vector<std::pair<std::string, broker::NewJob>>& jobs) {
  Flow& flow = m.flows()[key];
  std::vector<Job*> ready, first;
  for (const auto& [ref, nj] : jobs) {
    const bool callback = ref == "on_complete" || ref == "on_success";
    Job& job = m.Create(nj.id, nj.priority, nj.group, true);
    ++m.enqueued_total;
    job.hooked = nj.hooked;
    job.flow = key;
    job.ref = ref;
    job.parent = callback ? "^" : "*";
    job.policy = "fail";
    job.is_parent = callback;
    // Members' hooks all name the ref "*" (flow_jobs.lua).
    job.hook = std::string(nj.hooked ? "fu" : "f") + "\t" + key + "\t" + gen + "\t" +
               (callback ? ref : "*") + "\t" + job.parent + "\tfail";
    flow.tree.emplace_back(ref, job.parent);
    flow.policy[ref] = "fail";
    if (callback) {
      job.st = St::kHeld;
      job.release_lifo = nj.lifo;
      job.hook += std::string("\t0:-1:") + (nj.lifo ? "1" : "0");
    } else if (nj.delay_ms == 0) {
      (nj.lifo ? first : ready).push_back(&job);
    }
  }
  m.QueueAtTail(ready);
  std::reverse(first.begin(), first.end());
  m.QueueAtHead(first);
}

// Whether `n` more queued jobs pass the queue's maximum length.
static bool PastMaxLength(QueueModel& m, int64_t n) {
  const int64_t backlog =
      static_cast<int64_t>(m.InState(St::kWaiting).size() + m.InState(St::kDelayed).size() +
                           m.InState(St::kRetrying).size());
  return m.limits().max_length > 0 && backlog + n > m.limits().max_length;
}

// A batch of 0 to 5 members with random callbacks, open now and then; now and then the key of
// a batch or flow that exists (existed, or a conflict: nothing changes).
std::string ModelRun::DoSubmitBatch(uint64_t r) {
  QueueModel& m = main_->model;
  std::mt19937_64 rng(r);
  std::string key = "b" + std::to_string(next_flow_);
  if (!m.flows().empty() && rng() % 8 == 0) {
    auto it = m.flows().begin();
    std::advance(it, rng() % m.flows().size());
    key = it->first;
  } else {
    ++next_flow_;
  }
  broker::BatchCommit commit;
  commit.batch_key = key;
  commit.retention = kBatchRetention;
  commit.open = rng() % 3 == 0;
  const int members = static_cast<int>(rng() % 6);
  const bool plain = rng() % 2 == 0;
  std::vector<std::pair<std::string, broker::NewJob>> jobs;
  for (int i = 0; i < members; ++i) {
    const std::string ref = BatchMemberRef("", i);
    commit.members.push_back(BatchJob(key + "." + ref, rng, false, plain));
    jobs.emplace_back(ref, commit.members.back());
  }
  const uint64_t callbacks = rng() % 4;  // bit 0: on_complete, bit 1: on_success
  if (callbacks & 1) {
    commit.on_complete = BatchJob(key + ".on_complete", rng, true, false);
    jobs.emplace_back("on_complete", *commit.on_complete);
  }
  if (callbacks & 2) {
    commit.on_success = BatchJob(key + ".on_success", rng, true, false);
    jobs.emplace_back("on_success", *commit.on_success);
  }

  const bool exists = m.flows().count(key) > 0;
  const bool batch_key = exists && m.flows()[key].batch;
  const bool full = !exists && PastMaxLength(m, members);
  if (!exists && !full) {
    const std::string gen = std::to_string(++m.flows_committed);
    Flow& flow = m.flows()[key];
    flow.batch = true;
    flow.open = commit.open;
    flow.oc = commit.on_complete ? 'w' : '-';
    flow.os = commit.on_success ? 'w' : '-';
    Join& join = flow.joins["*"];
    join.total = join.pending = members;
    join.override = !commit.on_success;
    ModelBatchJobs(m, key, gen, jobs);
    if (members == 0 && !commit.open) {
      FlowSteps steps(m);
      steps.BatchCheck(key);
      steps.Settle();
    }
  }
  auto got = broker_->CommitBatch(m.name(), commit);
  if (full) {
    if (got.ok()) return "batch past the maximum length was accepted";
    return got.status().code() == StatusCode::kQueueFull ? "" : got.status().ToString();
  }
  if (!got.ok()) return "batch commit failed: " + got.status().ToString();
  const broker::BatchCommitOutcome want = batch_key ? broker::BatchCommitOutcome::kExisted
                                          : exists  ? broker::BatchCommitOutcome::kConflict
                                                    : broker::BatchCommitOutcome::kCreated;
  return *got == want ? "" : "batch commit of " + key + ": outcome differs from the model";
}

// The key of a random batch, or of none now and then.
std::string ModelRun::PickBatch(std::mt19937_64& rng) {
  std::vector<std::string> keys;
  for (const auto& [key, flow] : main_->model.flows()) {
    if (flow.batch) keys.push_back(key);
  }
  if (keys.empty() || rng() % 10 == 0) return "nobatch";
  return keys[rng() % keys.size()];
}

// 1 to 3 members added to a random batch; now and then an addition that exists.
std::string ModelRun::DoBatchAdd(uint64_t r) {
  QueueModel& m = main_->model;
  std::mt19937_64 rng(r);
  const std::string key = PickBatch(rng);
  auto it = m.flows().find(key);
  Flow* flow = it == m.flows().end() ? nullptr : &it->second;
  broker::BatchCommit commit;
  commit.batch_key = key;
  commit.addition = "a" + std::to_string(next_flow_++);
  if (flow != nullptr && !flow->additions.empty() && rng() % 5 == 0) {
    auto a = flow->additions.begin();
    std::advance(a, rng() % flow->additions.size());
    commit.addition = a->first;
  }
  const int members = 1 + static_cast<int>(rng() % 3);
  const bool plain = rng() % 2 == 0;
  std::vector<std::pair<std::string, broker::NewJob>> jobs;
  for (int i = 0; i < members; ++i) {
    const std::string ref = BatchMemberRef(commit.addition, i);
    commit.members.push_back(BatchJob(key + "." + ref, rng, false, plain));
    jobs.emplace_back(ref, commit.members.back());
  }
  broker::BatchCommitOutcome want = broker::BatchCommitOutcome::kCreated;
  bool full = false;
  if (flow == nullptr) {
    want = broker::BatchCommitOutcome::kNotFound;
  } else if (flow->additions.count(commit.addition)) {
    want = broker::BatchCommitOutcome::kExisted;
  } else if (flow->settled || flow->joins["*"].st == 'x') {
    want = broker::BatchCommitOutcome::kFinished;
  } else if (PastMaxLength(m, members)) {
    full = true;
  } else {
    Join& join = flow->joins["*"];
    join.total += members;
    join.pending += members;
    flow->additions[commit.addition] = members;
    const std::string gen = Strings({"HMGET", main_->keys.flow(key), "g"}).at(0);
    ModelBatchJobs(m, key, gen, jobs);
  }
  auto got = broker_->CommitBatch(m.name(), commit);
  if (full) {
    if (got.ok()) return "addition past the maximum length was accepted";
    return got.status().code() == StatusCode::kQueueFull ? "" : got.status().ToString();
  }
  if (!got.ok()) return "batch addition failed: " + got.status().ToString();
  return *got == want ? "" : "addition to " + key + ": outcome differs from the model";
}

std::string ModelRun::DoBatchClose(const std::string& key) {
  QueueModel& m = main_->model;
  auto it = m.flows().find(key);
  broker::BatchCloseOutcome want = broker::BatchCloseOutcome::kNotFound;
  if (it != m.flows().end() && it->second.batch) {
    want = broker::BatchCloseOutcome::kAlreadyClosed;
    if (it->second.open) {
      want = broker::BatchCloseOutcome::kClosed;
      it->second.open = false;
      FlowSteps steps(m);
      steps.BatchCheck(key);
      steps.Settle();
    }
  }
  auto got = broker_->CloseBatch(m.name(), key);
  if (!got.ok()) return "batch close failed: " + got.status().ToString();
  return *got == want ? "" : "close of " + key + ": outcome differs from the model";
}

std::string ModelRun::DoBatchCancel(const std::string& key) {
  QueueModel& m = main_->model;
  auto it = m.flows().find(key);
  broker::BatchCancelOutcome want = broker::BatchCancelOutcome::kNotFound;
  if (it != m.flows().end() && it->second.batch) {
    Flow& flow = it->second;
    want = broker::BatchCancelOutcome::kFinished;
    if (flow.st != "finished" && flow.joins["*"].st != 'x') {
      want = broker::BatchCancelOutcome::kCancelled;
      flow.open = false;
      FlowSteps steps(m);
      if (flow.oc == 'w') flow.oc = 'x';
      if (flow.os == 'w') flow.os = 'x';
      for (const char* ref : {"on_complete", "on_success"}) {
        Job* job = m.Find(key + "." + ref);
        if (job != nullptr && job->st == St::kHeld) {
          steps.MakeDead(*job);
          steps.Count(*job, false);
        }
      }
      steps.Settle();
      steps.CancelBelow(key, "*");
      steps.Settle();
      steps.BatchCheck(key);
      steps.Settle();
    }
  }
  auto got = broker_->CancelBatch(m.name(), key);
  if (!got.ok()) return "batch cancel failed: " + got.status().ToString();
  return *got == want ? "" : "cancel of " + key + ": outcome differs from the model";
}

std::string ModelRun::CheckBatch(Queue& q, const std::string& key, const Flow& flow,
                                 std::map<std::string, std::string>& record) {
  const std::string want_sd = flow.settled ? "1" : "";
  if (record["open"] != (flow.open ? "1" : "0") || record["oc"] != std::string(1, flow.oc) ||
      record["os"] != std::string(1, flow.os) || record["sd"] != want_sd) {
    return "batch " + key + ": open " + record["open"] + " oc " + record["oc"] + " os " +
           record["os"] + " sd " + record["sd"] + ", the model says " + (flow.open ? "1" : "0") +
           " " + flow.oc + " " + flow.os + " " + want_sd;
  }
  for (const auto& [ref, counts] : flow.counts) {
    const std::string stored = Strings({"HMGET", q.keys.flow_results(key, ref), "*"}).at(0);
    if (stored != counts) {
      return "batch " + key + ": " + ref + " was released with " + stored + ", the model says " +
             counts;
    }
  }
  return "";
}

}  // namespace taskq::model
