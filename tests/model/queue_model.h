// The reference model of one queue: a plain, in-memory description of what each transition must do
// to each job. It is the specification the randomized model test holds the real scripts to
// (tests/model/model_run.cc); it says nothing about how Redis stores anything.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace taskq::model {

enum class St { kWaiting, kDelayed, kActive, kRetrying, kCompleted, kDead, kHeld };

inline const char* StName(St st) {
  switch (st) {
    case St::kWaiting:
      return "waiting";
    case St::kDelayed:
      return "delayed";
    case St::kActive:
      return "active";
    case St::kRetrying:
      return "retrying";
    case St::kCompleted:
      return "completed";
    case St::kDead:
      return "dead";
    case St::kHeld:
      return "held";
  }
  return "?";
}

struct Job {
  std::string id;
  St st = St::kWaiting;
  int priority = 0;
  std::string group;  // "" none
  // Order within its priority (and group) while waiting: tail requeues count up, head ones down.
  int64_t pos = 0;
  bool aged = false;  // queued while priority aging was on: its order comes from its age
  int attempts = 0;   // attempts started and counted
  int stalls = 0;
  bool started = false;  // claimed at least once (its record keeps a start time)
  int64_t token = 0;     // the lease it holds while active
  // The token its overrun mark names (overrun.lua), 0 none. The mark outlives the attempt until
  // cleared, released, recovered or deleted with the job.
  int64_t overrun_mark = 0;
  bool cancel = false;
  // Delayed or retrying: made due (the test moved its due time into the past) and in which order.
  bool due = false;
  int64_t due_rank = 0;
  std::string unique_key;  // the key it took in a mode that ends with the job ("" none)
  int64_t finish_seq = 0;  // completed or dead: order of finishing
  bool hooked = false;     // has a completion callback: each finish must reach the callback queue
  // A job of a flow (flows.lua): its flow's key ("" none), ref, parent ref ("" the root), policy,
  // and, for a parent, whether it is released to delayed (a far delay) or at the head (LIFO).
  std::string flow;
  std::string ref, parent, policy;
  bool is_parent = false;
  bool release_delayed = false;
  bool release_lifo = false;
  std::string hook;  // its hook value while it has one (not completed)
};

// A parent's join of its children (flows.lua): w waiting, r released, f failed, x cancelled.
struct Join {
  char st = 'w';
  int total = 0, pending = 0, completed = 0, fail = 0, ignore = 0, cont = 0;
  bool override = false;
  int& dead(const std::string& policy) {
    return policy == "fail" ? fail : policy == "ignore" ? ignore : cont;
  }
  bool fatal() const { return fail > 0 && !override; }
  std::string Encode() const {
    return std::string(1, st) + ":" + std::to_string(total) + ":" + std::to_string(pending) + ":" +
           std::to_string(completed) + ":" + std::to_string(fail) + ":" + std::to_string(ignore) +
           ":" + std::to_string(cont) + ":" + (override ? "1" : "0");
  }
  // Encode's text read back; nullopt when it is not one.
  static std::optional<Join> Decode(const std::string& text) {
    Join j;
    char flag = 0;
    if (std::sscanf(text.c_str(), "%c:%d:%d:%d:%d:%d:%d:%c", &j.st, &j.total, &j.pending,
                    &j.completed, &j.fail, &j.ignore, &j.cont, &flag) != 8) {
      return std::nullopt;
    }
    j.override = flag == '1';
    return j;
  }
};

struct Flow {
  std::string st = "running";                             // then completed or dead, with its root
  std::vector<std::pair<std::string, std::string>> tree;  // (ref, parent), in commit order
  std::map<std::string, std::string> policy;              // ref -> policy
  std::map<std::string, Join> joins;                      // parent ref -> its join
  // parent ref -> child ref -> 'c' (completed) or 'd' (dead, policy not ignore)
  std::map<std::string, std::map<std::string, char>> results;
  // A batch (batch_commit.lua): its members (parent "*" in the tree) share joins["*"], whose
  // target is the callback "on_success"; "on_complete" (parent "^") is released when the batch
  // finishes. st is running, then finished.
  bool batch = false;
  bool open = false;     // the callbacks wait for a close
  char oc = '-';         // on_complete: w held, r released, x cancelled before it ran, - none
  char os = '-';         // on_success: the same, and f failed by a member's death
  bool settled = false;  // every member settled with the batch closed, once
  std::map<std::string, int> additions;       // addition id -> its members
  std::map<std::string, std::string> counts;  // callback ref -> the counts it was released with
};

// A finish of a job with a completion callback: one webhook job in the callback queue is owed.
struct CallbackOwed {
  std::string id;
  St st = St::kCompleted;
  bool operator<(const CallbackOwed& o) const {
    return id != o.id ? id < o.id : static_cast<int>(st) < static_cast<int>(o.st);
  }
};

enum class UniqueMode { kUntilCompleted, kTtl, kDebounce };

struct UniqueHolder {
  std::string holder;
  bool ttl = false;  // taken in mode ttl: held until it expires, whatever the job does
};

struct Limits {
  int64_t rate_max = 0, rate_window_ms = 1000;
  int32_t concurrency = 0;
  int64_t group_rate_max = 0, group_rate_window_ms = 1000;
  int32_t group_concurrency = 0;
  int64_t aging_ms = 0;
  int64_t max_length = 0;  // enqueues past this many waiting, delayed or retrying are refused
  bool any_claim_limit() const {
    return rate_max > 0 || concurrency > 0 || group_rate_max > 0 || group_concurrency > 0;
  }
};

class QueueModel {
 public:
  explicit QueueModel(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  std::map<std::string, Job>& jobs() { return jobs_; }
  const std::map<std::string, Job>& jobs() const { return jobs_; }
  std::set<std::string>& gone() { return gone_; }
  std::map<std::string, UniqueHolder>& unique() { return unique_; }
  const std::multiset<CallbackOwed>& callbacks() const { return callbacks_; }
  std::map<std::string, Flow>& flows() { return flows_; }
  Limits& limits() { return limits_; }
  const Limits& limits() const { return limits_; }
  bool paused = false;
  int64_t last_token = 0;
  // Lifetime counters, as meta keeps them: jobs created, failed attempts retried, jobs gone dead.
  int64_t enqueued_total = 0, retried_total = 0, dead_total = 0;
  int64_t flows_committed = 0;  // meta.flows: the last flow's generation

  Job* Find(const std::string& id) {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : &it->second;
  }

  // A new job, queued or delayed (the caller has checked that the id is free).
  Job& Create(const std::string& id, int priority, const std::string& group, bool delayed) {
    gone_.erase(id);
    Job& job = jobs_[id];
    job = Job{};
    job.id = id;
    job.priority = priority;
    job.group = group;
    if (delayed) {
      job.st = St::kDelayed;
    } else {
      QueueAtTail({&job});
    }
    return job;
  }
  void QueueAtTail(const std::vector<Job*>& batch) {
    for (Job* job : batch) {
      job->st = St::kWaiting;
      job->pos = ++tail_;
      job->aged = limits_.aging_ms > 0;
      job->due = false;
    }
  }
  // The first of `batch` ends up first, ahead of every job of its priority.
  void QueueAtHead(const std::vector<Job*>& batch) {
    int64_t first = head_ - static_cast<int64_t>(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->st = St::kWaiting;
      batch[i]->pos = first + static_cast<int64_t>(i);
      batch[i]->aged = limits_.aging_ms > 0;
      batch[i]->due = false;
    }
    head_ = first;
  }
  // Finishing: completed or dead. A key taken in a mode that ends with the job is released
  // while it still names the job.
  void Finish(Job& job, St st) {
    job.st = st;
    job.token = 0;
    job.finish_seq = ++finish_seq_;
    if (st == St::kDead) ++dead_total;
    ReleaseKey(job);
    if (job.hooked) callbacks_.insert({job.id, st});
  }
  void ReleaseKey(Job& job) {
    if (job.unique_key.empty()) return;
    auto it = unique_.find(job.unique_key);
    if (it != unique_.end() && !it->second.ttl && it->second.holder == job.id) unique_.erase(it);
    job.unique_key.clear();
  }
  // Removed with every trace.
  // Takes the id by value: callers pass job->id, which erase() below frees.
  void Delete(std::string id) {
    Job* job = Find(id);
    if (!job) return;
    ReleaseKey(*job);
    jobs_.erase(id);
    gone_.insert(id);
  }

  // Waiting jobs ordered as claim serves them when no group is involved and aging is off.
  static bool RunsBefore(const Job* a, const Job* b) {
    if (a->priority != b->priority) return a->priority < b->priority;
    return a->pos < b->pos;
  }

  std::vector<const Job*> InState(St st) const {
    std::vector<const Job*> out;
    for (const auto& [id, job] : jobs_) {
      if (job.st == st) out.push_back(&job);
    }
    return out;
  }

 private:
  std::string name_;
  std::map<std::string, Job> jobs_;
  std::set<std::string> gone_;  // ids removed with every trace (and not re-created)
  std::map<std::string, UniqueHolder> unique_;
  std::multiset<CallbackOwed> callbacks_;  // every finish of a hooked job so far
  std::map<std::string, Flow> flows_;      // by flow key
  Limits limits_;
  int64_t tail_ = 0, head_ = 0, finish_seq_ = 0;
};

}  // namespace taskq::model
