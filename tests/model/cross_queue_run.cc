#include "cross_queue_run.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "broker/keys.h"
#include "queue_model.h"
#include "worker/callback_relay.h"

namespace taskq::model {
namespace {

const std::vector<std::string> kQueues = {"h", "x", "y"};
constexpr auto kLease = std::chrono::seconds(60);  // no lease expires within an episode

// Finished jobs are kept: the drain's counts compare every child's final state.
broker::FinishPolicy KeepEverything() {
  broker::FinishPolicy policy;
  policy.keep_completed = Retention{-1, std::chrono::milliseconds(0)};
  policy.keep_dead = Retention{-1, std::chrono::milliseconds(0)};
  return policy;
}

template <typename T>
const T& Pick(const std::vector<T>& from, uint64_t r) {
  return from[r % from.size()];
}

broker::QueueKeys KeysOf(const std::string& queue) { return broker::QueueKeys("taskq", queue); }

}  // namespace

CrossQueueRun::CrossQueueRun(testing::RedisServer& server) : server_(server) {
  redis_ = server_.Connect();
  broker::BrokerOptions options;
  options.redis_url = server_.url();
  broker_ = std::move(*broker::OpenBroker(options));
}

broker::Reply CrossQueueRun::Redis(const broker::Command& command) {
  auto reply = redis_->Run(command);
  if (!reply.ok()) std::abort();  // the test's own server: a transport error is a broken test
  return std::move(*reply);
}

CrossQueueResult CrossQueueRun::RunEpisode(uint64_t seed, int max_steps) {
  Redis({"FLUSHALL"});
  Redis({"SCRIPT", "FLUSH"});  // a replaced script must be loaded anew
  for (const std::string& q : kQueues) {
    if (!broker_->RegisterQueue(q).ok()) std::abort();
  }
  jobs_.clear();
  flows_.clear();
  applied_.clear();
  next_flow_ = 0;
  static const std::vector<std::pair<std::string, int>> kWeights = {
      {"submit", 5}, {"work", 12},       {"retry", 3}, {"cancel", 2},
      {"relay", 6},  {"relay_crash", 3}, {"replay", 3}};
  int total = 0;
  for (const auto& [kind, weight] : kWeights) total += weight;
  std::mt19937_64 rng(seed);
  CrossQueueResult result;
  for (int step = 0; step < max_steps; ++step) {
    int pick = static_cast<int>(rng() % total);
    std::string kind;
    for (const auto& [name, weight] : kWeights) {
      if (pick < weight) {
        kind = name;
        break;
      }
      pick -= weight;
    }
    ++result.counts[kind];
    ++result.steps;
    std::string error = Step(kind, rng);
    if (error.empty()) error = CheckAlways();
    if (!error.empty()) {
      result.failed = true;
      result.failed_at_step = step;
      result.message = kind + ": " + error + Trace();
      return result;
    }
  }
  if (std::string error = Drain(); !error.empty()) {
    result.failed = true;
    result.failed_at_step = max_steps;
    result.message = "drain: " + error + Trace();
  }
  return result;
}

std::string CrossQueueRun::Trace() const {
  std::string out = "\n  the last steps:";
  const size_t first = trace_.size() > 60 ? trace_.size() - 60 : 0;
  for (size_t i = first; i < trace_.size(); ++i) out += "\n    " + trace_[i];
  return out;
}

std::string CrossQueueRun::Step(const std::string& kind, std::mt19937_64& rng) {
  if (kind == "submit") return Submit(rng);
  if (kind == "work") {
    int claimed = 0;
    return Work(rng, Pick(kQueues, rng()), false, &claimed);
  }
  if (kind == "retry") return Retry(rng);
  if (kind == "cancel") return Cancel(rng);
  if (kind == "relay") return Relay(Pick(kQueues, rng()));
  if (kind == "relay_crash") return RelayCrash(rng);
  return Replay(rng);
}

// A random tree over the three queues: a root with 1 to 3 children, each with 0 to 2 of its own,
// each of those with 0 or 1; random policies. Now and then the key of a flow that exists again,
// which must change nothing.
std::string CrossQueueRun::Submit(std::mt19937_64& rng) {
  if (!flows_.empty() && rng() % 8 == 0) {
    const auto& [home, key] = Pick(flows_, rng());
    broker::FlowCommit commit;
    commit.flow_key = key;
    broker::FlowCommitJob& root = commit.jobs.emplace_back();
    root.ref = "r";
    root.job.id = key + ".r";
    root.job.body = R"({"t":"model","d":{}})";
    auto got = broker_->CommitFlow(home, commit);
    if (!got.ok()) return "commit again: " + got.status().ToString();
    return *got == broker::FlowCommitOutcome::kExisted ? "" : "flow " + key + " committed twice";
  }
  static const std::vector<std::string> kPolicies = {"fail", "fail", "ignore", "continue"};
  const std::string key = "f" + std::to_string(next_flow_++);
  struct Node {
    std::string ref, parent, policy, queue;
  };
  std::vector<Node> nodes = {{"r", "", "fail", Pick(kQueues, rng())}};
  const int level1 = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < level1; ++i) {
    const std::string a(1, static_cast<char>('a' + i));
    nodes.push_back({a, "r", Pick(kPolicies, rng()), Pick(kQueues, rng())});
    const int level2 = static_cast<int>(rng() % 3);
    for (int j = 0; j < level2; ++j) {
      const std::string b = a + std::to_string(j);
      nodes.push_back({b, a, Pick(kPolicies, rng()), Pick(kQueues, rng())});
      if (rng() % 4 == 0)
        nodes.push_back({b + "x", b, Pick(kPolicies, rng()), Pick(kQueues, rng())});
    }
  }
  const std::string home = nodes.front().queue;
  broker::FlowCommit commit;
  commit.flow_key = key;
  for (const Node& node : nodes) {
    broker::FlowCommitJob& f = commit.jobs.emplace_back();
    f.ref = node.ref;
    f.parent = node.parent;
    f.on_failure = *ParseChildFailurePolicy(node.policy);
    f.queue = node.queue == home ? "" : node.queue;
    f.job.id = key + "." + node.ref;
    f.job.body = R"({"t":"model","d":{}})";
    f.job.priority = Pick(std::vector<int>{-1, 0, 0, 2}, rng());
    JobInfo& info = jobs_[f.job.id];
    info.queue = node.queue;
    info.home = home;
    info.flow_key = key;
    info.ref = node.ref;
    info.parent_id = node.parent.empty() ? "" : key + "." + node.parent;
    info.policy = node.policy;
  }
  for (const Node& node : nodes) {
    if (!node.parent.empty())
      jobs_[key + "." + node.parent].children.push_back(key + "." + node.ref);
  }
  flows_.emplace_back(home, key);
  std::string shape;
  for (const Node& node : nodes) shape += " " + node.ref + "@" + node.queue + ":" + node.policy;
  trace_.push_back("submit " + key + shape);
  auto got = broker_->CommitFlow(home, commit);
  if (!got.ok()) return "commit: " + got.status().ToString();
  return *got == broker::FlowCommitOutcome::kCreated ? "" : "flow " + key + " not created";
}

// A worker's step in `queue`: claims up to 4 jobs, and completes each, or (now and then, unless
// `all_complete`) fails it for good. A parent must not start before its children settled.
std::string CrossQueueRun::Work(std::mt19937_64& rng, const std::string& queue, bool all_complete,
                                int* claimed) {
  auto claim =
      broker_->Claim(queue, all_complete ? 50 : 1 + static_cast<int32_t>(rng() % 4), kLease);
  if (!claim.ok()) return "claim: " + claim.status().ToString();
  *claimed = static_cast<int>(claim->jobs.size());
  std::vector<broker::Completion> completions;
  std::vector<broker::Failure> failures;
  for (const broker::ClaimedJob& job : claim->jobs) {
    auto it = jobs_.find(job.id);
    if (it == jobs_.end()) return "claimed " + job.id + ", which no flow has";
    JobInfo& info = it->second;
    if (info.queue != queue) return job.id + " ran in " + queue + ", not in " + info.queue;
    if (++info.runs > info.allowed_runs) {
      return job.id + " started " + std::to_string(info.runs) + " times, allowed " +
             std::to_string(info.allowed_runs);
    }
    for (const std::string& child : info.children) {
      if (jobs_[child].finished_once) continue;
      auto where = Locate(child);
      if (!where || (where->second != JobState::kCompleted && where->second != JobState::kDead)) {
        return job.id + " started while its child " + child + " is " +
               (where ? JobStateName(where->second) : "nowhere");
      }
    }
    if (all_complete || rng() % 4 != 0) {
      completions.push_back({{job.id, job.token}, "{\"ran\":\"" + job.id + "\"}"});
      trace_.push_back("complete " + job.id + " in " + queue);
    } else {
      failures.push_back({{job.id, job.token}, R"({"attempt":1,"message":"boom"})", -1});
      trace_.push_back("fail " + job.id + " in " + queue);
    }
  }
  // Marked once every start of this claim was checked: a child claimed with its parent had not
  // finished when the parent was released.
  for (const broker::ClaimedJob& job : claim->jobs) jobs_[job.id].finished_once = true;
  if (!completions.empty()) {
    auto done = broker_->Complete(queue, completions, KeepEverything());
    if (!done.ok()) return "complete: " + done.status().ToString();
  }
  if (!failures.empty()) {
    auto done = broker_->Fail(queue, failures, KeepEverything());
    if (!done.ok()) return "fail: " + done.status().ToString();
  }
  return "";
}

// A dead job of some flow, retried from where it is.
std::string CrossQueueRun::Retry(std::mt19937_64& rng) {
  if (jobs_.empty()) return "";
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto it = jobs_.begin();
    std::advance(it, rng() % jobs_.size());
    auto where = Locate(it->first);
    if (!where || where->second != JobState::kDead) continue;
    JobInfo& info = it->second;
    for (std::string up = it->first; !up.empty(); up = jobs_[up].parent_id) {
      jobs_[up].finished_once = true;
    }
    const std::vector<std::string> ids = {it->first};
    trace_.push_back("retry " + it->first + " in " + where->first);
    auto moved = broker_->RetryDead(where->first, ids, 1);
    if (!moved.ok()) return "retry: " + moved.status().ToString();
    if (*moved != 1) return "retry of dead " + it->first + " moved " + std::to_string(*moved);
    ++info.allowed_runs;
    return "";
  }
  return "";
}

std::string CrossQueueRun::Cancel(std::mt19937_64& rng) {
  if (flows_.empty()) return "";
  // The root now and then (the whole flow), else any job of a flow.
  std::string id;
  if (rng() % 2 == 0) {
    id = Pick(flows_, rng()).second + ".r";
  } else {
    auto it = jobs_.begin();
    std::advance(it, rng() % jobs_.size());
    id = it->first;
  }
  auto where = Locate(id);
  if (!where) return "";
  trace_.push_back("cancel " + id + " in " + where->first + " (" + JobStateName(where->second) +
                   ")");
  auto outcome = broker_->Remove(where->first, id, broker::RemoveMode::kCancel);
  return outcome.ok() ? "" : "cancel: " + outcome.status().ToString();
}

std::string CrossQueueRun::Relay(const std::string& queue) {
  worker::CallbackRelayOptions options;
  options.callback_queue = "cb";
  options.token = "relay";
  auto applied = worker::RelayOutbox(*broker_, queue, options);
  if (applied.ok() && *applied > 0) {
    trace_.push_back("relay " + queue + ": " + std::to_string(*applied) + " entries");
  }
  return applied.ok() ? "" : "relay " + queue + ": " + applied.status().ToString();
}

// A relay that takes up to five entries under a 1 ms lease, applies them as the relay does (a run
// of one class and target per call) and dies before deleting them: a later relay applies them
// again.
std::string CrossQueueRun::RelayCrash(std::mt19937_64& rng) {
  const std::string queue = Pick(kQueues, rng());
  const std::string token = "crashed-" + std::to_string(++crashes_);
  auto entries = broker_->TakeOutbox(queue, token, std::chrono::milliseconds(1),
                                     1 + static_cast<int32_t>(rng() % 5));
  if (!entries.ok()) return "take: " + entries.status().ToString();
  std::vector<broker::OutboxEntry> run;
  auto apply = [&]() -> std::string {
    if (run.empty()) return "";
    const std::string target = *run.front().Field("q");
    auto applied = broker_->ApplyFlowEntries(target, queue, run);
    if (!applied.ok()) return "apply: " + applied.status().ToString();
    std::string what;
    for (const auto& e : run)
      what += " " + *e.Field("k") + ":" + *e.Field("u") + "." + *e.Field("ref");
    trace_.push_back("crashed relay " + queue + " -> " + target + what);
    applied_.push_back({target, queue, run});
    run.clear();
    return "";
  };
  for (const broker::OutboxEntry& entry : *entries) {
    const broker::FlowEntryClass kind = broker::FlowEntryClassOf(entry);
    if (kind == broker::FlowEntryClass::kNone) return "entry " + entry.id + " of no flow";
    if (!run.empty() && (broker::FlowEntryClassOf(run.front()) != kind ||
                         *run.front().Field("q") != *entry.Field("q"))) {
      if (std::string error = apply(); !error.empty()) return error;
    }
    run.push_back(entry);
  }
  return apply();
}

// A run applied before, applied again: nothing in Redis may change.
std::string CrossQueueRun::Replay(std::mt19937_64& rng) {
  if (applied_.empty()) return "";
  const AppliedRun& run = Pick(applied_, rng());
  const auto before = Snapshot();
  auto applied = broker_->ApplyFlowEntries(run.target, run.source, run.entries);
  if (!applied.ok()) return "apply again: " + applied.status().ToString();
  const auto after = Snapshot();
  if (before == after && *applied == 0) return "";
  std::string changed = "the count " + std::to_string(*applied);
  for (const auto& entry : after) {
    if (std::find(before.begin(), before.end(), entry) == before.end()) {
      changed = "key " + entry.first;
      break;
    }
  }
  for (const auto& entry : before) {
    if (std::find(after.begin(), after.end(), entry) == after.end()) {
      changed += ", and key " + entry.first + " as it was";
      break;
    }
  }
  return "applying again " + std::to_string(run.entries.size()) + " entries of " + run.source +
         " (first " + *run.entries.front().Field("k") + " " + *run.entries.front().Field("ref") +
         ") in " + run.target + " changed " + changed;
}

// After every step: each join's counts add up, and no job is in two queues. Notes the jobs that
// have finished.
std::string CrossQueueRun::CheckAlways() {
  std::set<std::string> seen;
  for (const std::string& q : kQueues) {
    const broker::QueueKeys keys = KeysOf(q);
    for (const std::string& finished : {keys.completed(), keys.dead()}) {
      auto ids = Redis({"ZRANGE", finished, "0", "-1"});
      for (size_t i = 0; i < ids.view().size(); ++i) {
        auto it = jobs_.find(std::string(ids.view()[i].str()));
        if (it != jobs_.end()) it->second.finished_once = true;
      }
    }
    auto ids = Redis({"HKEYS", keys.jobs()});
    for (size_t i = 0; i < ids.view().size(); ++i) {
      const std::string id(ids.view()[i].str());
      if (!seen.insert(id).second) return id + " is in two queues";
    }
  }
  for (const auto& [home, key] : flows_) {
    for (const auto& [field, value] : Record(home, key)) {
      if (!field.starts_with("j:")) continue;
      auto join = Join::Decode(value);
      if (!join) return "flow " + key + ": malformed join " + value;
      if (join->pending < 0 ||
          join->total != join->pending + join->completed + join->fail + join->ignore + join->cont) {
        return "flow " + key + ": join " + field + " = " + value + " does not add up";
      }
    }
  }
  return "";
}

// Relays and workers until nothing moves; then nothing is held or owed, and every parent's join
// counts what its children became.
std::string CrossQueueRun::Drain() {
  std::mt19937_64 rng(1);
  for (int round = 0; round < 100; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // crashed relays' leases
    bool moved = false;
    for (const std::string& q : kQueues) {
      if (std::string error = Relay(q); !error.empty()) return error;
    }
    for (const std::string& q : kQueues) {
      for (int claimed = 1; claimed > 0;) {
        if (std::string error = Work(rng, q, true, &claimed); !error.empty()) return error;
        moved = moved || claimed > 0;
      }
    }
    int64_t owed = 0;
    for (const std::string& q : kQueues) {
      owed += Redis({"XLEN", KeysOf(q).outbox()}).view().AsInt();
    }
    if (!moved && owed == 0) break;
  }
  for (const std::string& q : kQueues) {
    if (Redis({"XLEN", KeysOf(q).outbox()}).view().AsInt() != 0) {
      return "the outbox of " + q + " is not empty";
    }
    auto held = Redis({"ZRANGE", KeysOf(q).held(), "0", "0"});
    if (held.view().size() > 0) return std::string(held.view()[0].str()) + " is still held";
  }
  for (const auto& [home, key] : flows_) {
    auto record = Record(home, key);
    if (record["st"] != "completed" && record["st"] != "dead") {
      return "flow " + key + " is " + record["st"] + " after the drain";
    }
  }
  for (const auto& [id, info] : jobs_) {
    if (info.children.empty()) continue;
    auto record = Record(info.home, info.flow_key);
    auto join = Join::Decode(record["j:" + info.ref]);
    if (!join) return "flow " + info.flow_key + ": no join for " + info.ref;
    Join want;
    want.total = static_cast<int>(info.children.size());
    for (const std::string& child : info.children) {
      auto where = Locate(child);
      if (!where) return child + " is gone";
      if (where->second == JobState::kCompleted) {
        ++want.completed;
      } else if (where->second == JobState::kDead) {
        want.dead(jobs_[child].policy) += 1;
      } else {
        return child + " is " + JobStateName(where->second) + " after the drain";
      }
    }
    if (join->pending != 0 || join->completed != want.completed || join->fail != want.fail ||
        join->ignore != want.ignore || join->cont != want.cont) {
      return "the join of " + id + " is " + record["j:" + info.ref] + ", its children say " +
             std::to_string(want.completed) + " completed, " + std::to_string(want.fail) + "/" +
             std::to_string(want.ignore) + "/" + std::to_string(want.cont) + " dead";
    }
  }
  return "";
}

std::optional<std::pair<std::string, JobState>> CrossQueueRun::Locate(const std::string& id) {
  const JobInfo& info = jobs_[id];
  for (const std::string& q : {info.queue, info.home}) {
    auto job = broker_->GetJob(q, id);
    if (job.ok() && job->has_value()) return std::make_pair(q, (*job)->state);
  }
  return std::nullopt;
}

std::map<std::string, std::string> CrossQueueRun::Record(const std::string& home,
                                                         const std::string& key) {
  auto flat = Redis({"HGETALL", KeysOf(home).flow(key)});
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < flat.view().size(); i += 2) {
    out[std::string(flat.view()[i].str())] = std::string(flat.view()[i + 1].str());
  }
  return out;
}

// Every key and its value (DUMP), sorted by key; relays' leases left out.
std::vector<std::pair<std::string, std::string>> CrossQueueRun::Snapshot() {
  auto keys = Redis({"KEYS", "*"});
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < keys.view().size(); ++i) {
    const std::string key(keys.view()[i].str());
    // A crashed relay's lease expires on its own (1 ms) while the step runs.
    if (key.ends_with(":outbox:lease")) continue;
    out.emplace_back(key, std::string(Redis({"DUMP", key}).view().str()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace taskq::model
