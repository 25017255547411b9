// The model test's flows: submitting a random tree (flow_commit.lua) and checking every flow's
// record against the model (flow_model.h). The finishing, cancelling and retrying steps count flow
// jobs in model_transitions.cc and model_run.cc.
#include <random>
#include <set>

#include "model_run.h"

namespace taskq::model {
namespace {

constexpr int64_t kFarDelayMs = 3'600'000;  // delayed until the test makes it due
constexpr auto kFlowRetention = std::chrono::hours(1);

}  // namespace

// A random tree: a root with 1 to 3 children, each with 0 to 2 children, each of those with 0 or
// 1; random policies, priorities, groups, delays (a parent's counts from its release), LIFO and
// callbacks. Now and then the key of a flow that exists, which must change nothing.
std::string ModelRun::DoSubmitFlow(uint64_t r) {
  Queue& q = *main_;
  QueueModel& m = q.model;
  std::mt19937_64 rng(r);
  std::string key = "f" + std::to_string(next_flow_);
  const bool again = !m.flows().empty() && rng() % 8 == 0;
  if (again) {
    auto it = m.flows().begin();
    std::advance(it, rng() % m.flows().size());
    key = it->first;
  } else {
    ++next_flow_;
  }
  struct Node {
    std::string ref, parent, policy;
  };
  std::vector<Node> nodes = {{"r", "", "fail"}};
  static const std::vector<std::string> kPolicies = {"fail", "fail", "ignore", "continue"};
  const int level1 = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < level1; ++i) {
    const std::string a(1, static_cast<char>('a' + i));
    nodes.push_back({a, "r", Pick(kPolicies, rng())});
    const int level2 = static_cast<int>(rng() % 3);
    for (int j = 0; j < level2; ++j) {
      const std::string b = a + std::to_string(j);
      nodes.push_back({b, a, Pick(kPolicies, rng())});
      if (rng() % 4 == 0) nodes.push_back({b + "x", b, Pick(kPolicies, rng())});
    }
  }
  std::set<std::string> parents;
  for (const Node& node : nodes) {
    if (!node.parent.empty()) parents.insert(node.parent);
  }
  broker::FlowCommit commit;
  commit.flow_key = key;
  commit.retention = kFlowRetention;
  for (const Node& node : nodes) {
    broker::FlowCommitJob& f = commit.jobs.emplace_back();
    f.ref = node.ref;
    f.parent = node.parent;
    f.on_failure = *ParseChildFailurePolicy(node.policy);
    broker::NewJob& job = f.job;
    job.id = key + "." + node.ref;
    job.hooked = rng() % 4 == 0;
    job.body = job.hooked ? R"({"t":"model","d":{},"o":{"cb":"http://cb.example/"}})"
                          : R"({"t":"model","d":{}})";
    job.priority = Pick(std::vector<int>{-2, 0, 0, 0, 3}, rng());
    job.delay_ms = rng() % 5 == 0 ? kFarDelayMs : 0;
    job.group = Pick(std::vector<std::string>{"", "", "", "g1", "g2"}, rng());
    job.lifo = rng() % 5 == 0;
  }

  // The model: nothing when the flow exists (or the key is a batch's) or the queue is too full
  // for its leaves.
  const bool exists = m.flows().count(key) > 0;
  const bool batch_key = exists && m.flows()[key].batch;
  int64_t leaves = 0;
  for (const Node& node : nodes) leaves += parents.count(node.ref) ? 0 : 1;
  const int64_t backlog =
      static_cast<int64_t>(m.InState(St::kWaiting).size() + m.InState(St::kDelayed).size() +
                           m.InState(St::kRetrying).size());
  const bool full =
      !exists && m.limits().max_length > 0 && backlog + leaves > m.limits().max_length;
  if (!exists && !full) {
    Flow& flow = m.flows()[key];
    const std::string gen = std::to_string(++m.flows_committed);
    std::vector<Job*> ready, first;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node& node = nodes[i];
      const broker::NewJob& nj = commit.jobs[i].job;
      const bool parent = parents.count(node.ref) > 0;
      flow.tree.emplace_back(node.ref, node.parent);
      flow.policy[node.ref] = node.policy;
      Job& job = m.Create(nj.id, nj.priority, nj.group, true);
      ++m.enqueued_total;
      job.hooked = nj.hooked;
      job.flow = key;
      job.ref = node.ref;
      job.parent = node.parent;
      job.policy = node.policy;
      job.is_parent = parent;
      job.hook = std::string(nj.hooked ? "fu" : "f") + "\t" + key + "\t" + gen + "\t" + node.ref +
                 "\t" + node.parent + "\t" + node.policy;
      if (parent) {
        job.st = St::kHeld;
        job.release_delayed = nj.delay_ms > 0;
        job.release_lifo = nj.lifo;
        job.hook += "\t" + std::to_string(nj.delay_ms) + ":-1:" + (nj.lifo ? "1" : "0");
        int children = 0;
        for (const Node& other : nodes) children += other.parent == node.ref ? 1 : 0;
        Join& join = flow.joins[node.ref];
        join.total = join.pending = children;
      } else if (nj.delay_ms == 0) {
        (nj.lifo ? first : ready).push_back(&job);
      }
    }
    m.QueueAtTail(ready);
    std::reverse(first.begin(), first.end());
    m.QueueAtHead(first);
  }
  auto got = broker_->CommitFlow(m.name(), commit);
  if (full) {
    if (got.ok()) return "flow past the maximum length was accepted";
    return got.status().code() == StatusCode::kQueueFull ? "" : got.status().ToString();
  }
  if (!got.ok()) return "flow commit failed: " + got.status().ToString();
  const broker::FlowCommitOutcome want = batch_key ? broker::FlowCommitOutcome::kConflict
                                         : exists  ? broker::FlowCommitOutcome::kExisted
                                                   : broker::FlowCommitOutcome::kCreated;
  return *got == want ? "" : "flow commit of " + key + ": outcome differs from the model";
}

std::string ModelRun::CheckFlows(Queue& q) {
  QueueModel& m = q.model;
  for (const auto& [key, flow] : m.flows()) {
    const std::vector<std::string> flat = Strings({"HGETALL", q.keys.flow(key)});
    std::map<std::string, std::string> record;
    for (size_t i = 0; i + 1 < flat.size(); i += 2) record[flat[i]] = flat[i + 1];
    if (record["st"] != flow.st) {
      return "flow " + key + " is " + record["st"] + ", the model says " + flow.st;
    }
    if (flow.batch) {
      if (std::string error = CheckBatch(q, key, flow, record); !error.empty()) return error;
    }
    for (const auto& [ref, join] : flow.joins) {
      if (record["j:" + ref] != join.Encode()) {
        return "flow " + key + ": join of " + ref + " is " + record["j:" + ref] +
               ", the model says " + join.Encode();
      }
      const std::vector<std::string> results = Strings({"HGETALL", q.keys.flow_results(key, ref)});
      std::map<std::string, char> stored;
      for (size_t i = 0; i + 1 < results.size(); i += 2) {
        stored[results[i]] = results[i + 1].empty() ? '?' : results[i + 1][0];
      }
      auto it = flow.results.find(ref);
      const std::map<std::string, char> want =
          it == flow.results.end() ? std::map<std::string, char>() : it->second;
      if (stored != want) return "flow " + key + ": the outcomes of " + ref + "'s children differ";
    }
  }
  return "";
}

}  // namespace taskq::model
