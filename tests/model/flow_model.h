// The reference model of flows (docs/workflows.md) in one queue: what counting a flow job's
// finish, cancelling below a parent and retrying from dead must do to the jobs and the joins.
// The model test (model_run.cc) holds lua/include/flows.lua to it; like queue_model.h it says
// nothing about how Redis stores anything.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "queue_model.h"

namespace taskq::model {

// The join that decides for a target: a flow parent's own, or for a batch's on_success the
// members' join "*" (on_complete has none).
inline std::string JoinOf(const Job& target) {
  if (target.parent != "^") return target.ref;
  return target.ref == "on_success" ? "*" : "";
}

class FlowSteps {
 public:
  explicit FlowSteps(QueueModel& m) : m_(m) {}

  // A flow job finished (completed, or dead): counted in its parent's join by Settle.
  void Count(const Job& job, bool completed) {
    work_.push_back({job.id, job.flow, job.ref, job.parent, job.policy, completed});
  }

  // Every finish counted so far, in order, and what each decides: a parent released or failed,
  // whose own death is counted in turn.
  void Settle() {
    for (size_t i = 0; i < work_.size(); ++i) {
      const Work w = work_[i];
      Flow* flow = FindFlow(w.flow);
      if (flow == nullptr || w.parent == "^") continue;  // a batch's callback counts nowhere
      if (w.parent.empty()) {
        flow->st = w.completed ? "completed" : "dead";
        continue;
      }
      auto it = flow->joins.find(w.parent);
      if (it == flow->joins.end()) continue;
      Join& join = it->second;
      join.pending -= 1;
      if (w.parent == "*") {  // a batch's member
        if (w.completed) {
          join.completed += 1;
        } else {
          join.dead(w.policy) += 1;
        }
        if ((join.st == 'w' && join.fatal()) || (join.pending <= 0 && !flow->open)) {
          BatchCheck(w.flow);
        }
        continue;
      }
      if (w.completed) {
        join.completed += 1;
        flow->results[w.parent][w.ref] = 'c';
      } else {
        join.dead(w.policy) += 1;
        if (w.policy != "ignore") flow->results[w.parent][w.ref] = 'd';
      }
      if (join.st != 'w') continue;
      const std::string parent_id = w.flow + "." + w.parent;
      if (join.fatal()) {
        join.st = 'f';
        Job* parent = m_.Find(parent_id);
        if (parent != nullptr && parent->st == St::kHeld) {
          MakeDead(*parent);
          Count(*parent, false);
        }
      } else if (join.pending <= 0) {
        join.st = 'r';
        Release(parent_id);
      }
    }
    work_.clear();
  }

  // batch_check: on_success fails at the first death and is released when every member
  // completed; once every member settled and the batch is closed, on_complete is released and
  // the batch finishes. Each once.
  void BatchCheck(const std::string& key) {
    Flow* flow = FindFlow(key);
    if (flow == nullptr) return;
    Join& join = flow->joins["*"];
    const bool ready = join.pending <= 0 && !flow->open;
    if (join.st == 'w' && (join.fatal() || ready)) {
      join.st = join.fatal() ? 'f' : 'r';
      if (flow->os == 'w') {
        flow->os = join.st;
        if (join.st == 'f') {
          Job* on_success = m_.Find(key + ".on_success");
          if (on_success != nullptr && on_success->st == St::kHeld) {
            MakeDead(*on_success);
            Count(*on_success, false);
          }
        } else {
          ReleaseCallback(*flow, key, "on_success");
        }
      }
    }
    if (ready && flow->st == "running") {
      if (flow->oc == 'w') {
        flow->oc = 'r';
        ReleaseCallback(*flow, key, "on_complete");
      }
      flow->st = "finished";
      flow->settled = true;
    }
  }

  void ReleaseCallback(Flow& flow, const std::string& key, const std::string& ref) {
    Job* job = m_.Find(key + "." + ref);
    if (job == nullptr || job->st != St::kHeld) return;
    const Join& join = flow.joins["*"];
    flow.counts[ref] = "c{\"total\":" + std::to_string(join.total) +
                       ",\"completed\":" + std::to_string(join.completed) +
                       ",\"dead\":" + std::to_string(join.fail + join.ignore + join.cont) + "}";
    Release(job->id);
  }

  // A batch's callback that has not run is cancelled or removed: never released by its batch.
  void CallbackDropped(const Job& callback) {
    Flow* flow = FindFlow(callback.flow);
    if (flow == nullptr) return;
    char& mark = callback.ref == "on_success" ? flow->os : flow->oc;
    if (mark == 'w') mark = 'x';
  }

  // A job not running and not finished goes dead, cancelled (flows.lua, flow_make_dead).
  void MakeDead(Job& job) {
    job.cancel = true;
    job.due = false;
    m_.Finish(job, St::kDead);
  }

  void Release(const std::string& id) {
    Job* job = m_.Find(id);
    if (job == nullptr || job->st != St::kHeld) return;
    if (job->release_delayed) {
      job->st = St::kDelayed;
      job->due = false;
    } else if (job->release_lifo) {
      m_.QueueAtHead({job});
    } else {
      m_.QueueAtTail({job});
    }
  }

  // flow_cancel_below: every join still waiting or failed below `top` is cancelled, and its
  // children not running nor finished go dead, cancelled; running ones are asked to stop.
  void CancelBelow(const std::string& flow_key, const std::string& top) {
    Flow* flow = FindFlow(flow_key);
    if (flow == nullptr) return;
    std::map<std::string, std::vector<std::string>> children;
    for (const auto& [ref, parent] : flow->tree) {
      if (!parent.empty()) children[parent].push_back(ref);
    }
    std::vector<std::string> stack = {top};
    while (!stack.empty()) {
      const std::string ref = stack.back();
      stack.pop_back();
      auto it = flow->joins.find(ref);
      // A batch's join is cancelled whatever its state (a step of batch_cancel.lua).
      if (it == flow->joins.end() || (it->second.st != 'w' && it->second.st != 'f' && ref != "*")) {
        continue;
      }
      Join& join = it->second;
      join.st = 'x';
      for (const std::string& child : children[ref]) {
        Job* job = m_.Find(flow_key + "." + child);
        if (job != nullptr && job->st == St::kActive) {
          job->cancel = true;
        } else if (job != nullptr && (job->st == St::kWaiting || job->st == St::kDelayed ||
                                      job->st == St::kRetrying || job->st == St::kHeld)) {
          MakeDead(*job);
          join.pending -= 1;
          const std::string& policy = flow->policy[child];
          join.dead(policy) += 1;
          if (policy != "ignore" && ref != "*") flow->results[ref][child] = 'd';
        }
        if (children.count(child)) stack.push_back(child);
      }
    }
  }

  // flow_revive: a flow job left dead (a retry): pending again in its parent's join; a parent
  // failed by that join with no fatal death left goes back to held, up the tree.
  void Revive(const Job& retried) {
    std::string flow_key = retried.flow, ref = retried.ref, parent = retried.parent,
                policy = retried.policy;
    while (true) {
      Flow* flow = FindFlow(flow_key);
      if (flow == nullptr || parent == "^") return;
      if (parent.empty()) {
        flow->st = "running";
        return;
      }
      auto it = flow->joins.find(parent);
      if (it == flow->joins.end()) return;
      Join& join = it->second;
      join.dead(policy) = std::max(0, join.dead(policy) - 1);
      join.pending += 1;
      flow->results[parent].erase(ref);
      if (parent == "*") flow->st = "running";  // a finished batch runs again
      Job* parent_job = m_.Find(flow_key + "." + (parent == "*" ? "on_success" : parent));
      if (join.st != 'f' || join.fatal() || parent_job == nullptr || parent_job->st != St::kDead ||
          (parent == "*" && flow->os != 'f')) {
        return;
      }
      join.st = 'w';
      if (parent == "*") flow->os = 'w';
      parent_job->st = St::kHeld;
      parent_job->cancel = false;
      parent_job->token = 0;
      ref = parent_job->ref;
      parent = parent_job->parent;
      policy = parent_job->policy;
    }
  }

  Flow* FindFlow(const std::string& flow_key) {
    auto it = m_.flows().find(flow_key);
    return it == m_.flows().end() ? nullptr : &it->second;
  }

 private:
  struct Work {
    std::string id, flow, ref, parent, policy;
    bool completed = false;
  };
  QueueModel& m_;
  std::vector<Work> work_;
};

}  // namespace taskq::model
