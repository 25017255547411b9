// The invariants the model test checks after every step (model_run.h): everything Redis holds
// for one queue, compared with the reference model.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <map>
#include <set>
#include <sstream>

#include "broker/state_record.h"
#include "broker/token_text.h"
#include "common/job_codec.h"
#include "common/text_list.h"
#include "model_run.h"

namespace taskq::model {

namespace json = boost::json;

std::string ModelRun::Check(Queue& q) {
  QueueModel& m = q.model;
  const broker::QueueKeys& k = q.keys;
  std::map<std::string, std::vector<std::string>> where;  // id -> structures holding it
  auto note = [&](const std::vector<std::string>& ids, const std::string& structure) {
    for (const auto& id : ids) where[id].push_back(structure);
  };
  const auto wait = Strings({"LRANGE", k.wait(), "0", "-1"});
  const auto prio = Strings({"ZRANGE", k.prioritized(), "0", "-1"});
  note(wait, "wait");
  note(prio, "prio");
  std::map<std::string, std::vector<std::string>> group_zsets;
  for (const auto& key : Strings({"KEYS", k.base() + "gw:*"})) {
    const std::string group = key.substr(k.base().size() + 3);
    group_zsets[group] = Strings({"ZRANGE", key, "0", "-1"});
    note(group_zsets[group], "gw:" + group);
  }
  note(Strings({"ZRANGE", k.delayed(), "0", "-1"}), "delayed");
  note(Strings({"ZRANGE", k.retry(), "0", "-1"}), "retry");
  note(Strings({"ZRANGE", k.active(), "0", "-1"}), "active");
  note(Strings({"ZRANGE", k.completed(), "0", "-1"}), "completed");
  note(Strings({"ZRANGE", k.dead(), "0", "-1"}), "dead");
  note(Strings({"ZRANGE", k.held(), "0", "-1"}), "held");

  auto expected_structure = [](const Job& job) -> std::string {
    switch (job.st) {
      case St::kWaiting:
        if (!job.group.empty()) return "gw:" + job.group;
        return job.priority == 0 && !job.aged ? "wait" : "prio";
      case St::kDelayed:
        return "delayed";
      case St::kRetrying:
        return "retry";
      case St::kActive:
        return "active";
      case St::kCompleted:
        return "completed";
      case St::kDead:
        return "dead";
      case St::kHeld:
        return "held";
    }
    return "?";
  };
  for (const auto& [id, job] : m.jobs()) {
    auto it = where.find(id);
    const std::string want = expected_structure(job);
    if (it == where.end()) {
      return id + " is in no structure; the model has it " + StName(job.st) + " (lost)";
    }
    if (it->second.size() != 1 || it->second[0] != want) {
      return id + " is in " + JoinList(it->second, ",") + "; the model has it in " + want;
    }
  }
  for (const auto& [id, structures] : where) {
    if (!m.Find(id))
      return id + " is in " + JoinList(structures, ",") + " but the model has no such job";
  }

  // State records.
  auto records = Strings({"HGETALL", k.state()});
  std::map<std::string, std::string> record_of;
  for (size_t i = 0; i + 1 < records.size(); i += 2) record_of[records[i]] = records[i + 1];
  for (const auto& [id, record] : record_of) {
    if (!m.Find(id)) return "a state record for " + id + ", which the model has not";
  }
  for (const auto& [id, job] : m.jobs()) {
    auto it = record_of.find(id);
    if (it == record_of.end()) {
      if ((job.st == St::kWaiting || job.st == St::kDelayed) && job.attempts == 0 && !job.started &&
          job.priority == 0) {
        continue;  // never claimed, priority 0: a record is optional
      }
      return id + " has no state record";
    }
    const std::optional<broker::StateRecord> r = broker::ParseStateRecord(it->second);
    if (!r) return id + ": malformed record " + it->second;
    const std::string want_token = job.st == St::kActive ? broker::TokenText(job.token) : "";
    if (r->state != StName(job.st) || r->attempts != job.attempts || r->stalls != job.stalls ||
        r->token != want_token || r->cancel_requested != job.cancel ||
        r->priority != job.priority) {
      std::ostringstream out;
      out << id << ": record " << it->second << ", model: " << StName(job.st)
          << " a=" << job.attempts << " s=" << job.stalls << " p=" << job.priority
          << " tk=" << want_token << " cx=" << job.cancel;
      return out.str();
    }
  }

  // Bodies, groups and the per-job lists: exactly the live jobs; nothing of a removed job.
  auto bodies = Strings({"HKEYS", k.jobs()});
  if (bodies.size() != m.jobs().size()) {
    return "the jobs hash holds " + std::to_string(bodies.size()) + " bodies, the model " +
           std::to_string(m.jobs().size()) + " jobs";
  }
  for (const auto& id : bodies) {
    if (!m.Find(id)) return "a body for " + id + ", which the model has not";
  }
  auto group_fields = Strings({"HGETALL", k.base() + "g"});
  std::map<std::string, std::string> group_of;
  for (size_t i = 0; i + 1 < group_fields.size(); i += 2) {
    group_of[group_fields[i]] = group_fields[i + 1];
  }
  for (const auto& [id, job] : m.jobs()) {
    if (!job.group.empty() && group_of[id] != job.group) return id + ": group entry missing";
    group_of.erase(id);
  }
  if (!group_of.empty()) return "a group entry for " + group_of.begin()->first + ", not grouped";
  for (const auto& id : Strings({"SMEMBERS", k.with_lists()})) {
    if (!m.Find(id)) return "the set x names " + id + ", which the model has not";
  }
  for (const auto& key : Strings({"KEYS", k.base() + "[el]:*"})) {
    if (!m.Find(key.substr(k.base().size() + 2))) return key + " outlived its job";
  }

  // Groups: counters, the ring and the held set.
  int64_t grouped_waiting = 0;
  std::map<std::string, int64_t> active_per_group;
  std::set<std::string> groups_waiting;
  for (const auto& [id, job] : m.jobs()) {
    if (job.group.empty()) continue;
    if (job.st == St::kWaiting) {
      ++grouped_waiting;
      groups_waiting.insert(job.group);
    }
    if (job.st == St::kActive) ++active_per_group[job.group];
  }
  broker::Reply gwaiting = Redis({"HGET", k.meta(), "gwaiting"});
  const int64_t stored_gwaiting =
      gwaiting.view().is_nil() ? 0 : std::stoll(std::string(gwaiting.view().str()));
  if (stored_gwaiting != grouped_waiting) {
    return "meta.gwaiting is " + std::to_string(stored_gwaiting) + ", model " +
           std::to_string(grouped_waiting);
  }
  auto gactive = Strings({"HGETALL", k.base() + "gactive"});
  std::map<std::string, int64_t> stored_active;
  for (size_t i = 0; i + 1 < gactive.size(); i += 2) {
    stored_active[gactive[i]] = std::stoll(gactive[i + 1]);
  }
  if (stored_active != active_per_group) {
    std::string out = "gactive differs from the model's active jobs: stored";
    for (const auto& [g, n] : stored_active) out += " " + g + "=" + std::to_string(n);
    out += "; model";
    for (const auto& [g, n] : active_per_group) out += " " + g + "=" + std::to_string(n);
    return out;
  }
  auto ring = Strings({"LRANGE", k.group_ring(), "0", "-1"});
  auto held = Strings({"ZRANGE", k.groups_held(), "0", "-1"});
  std::set<std::string> in_turn;
  int ungrouped_turns = 0;
  for (const auto& group : ring) {
    if (group.empty()) {
      ++ungrouped_turns;
    } else if (!in_turn.insert(group).second) {
      return "group " + group + " is in the ring twice";
    }
  }
  if (!ring.empty() && ungrouped_turns != 1) return "the ring has no single ungrouped turn";
  const std::set<std::string> members = [&] {
    auto list = Strings({"SMEMBERS", k.base() + "gin"});
    return std::set<std::string>(list.begin(), list.end());
  }();
  if (members != in_turn) return "gin differs from the groups in the ring";
  for (const auto& group : held) {
    if (!in_turn.insert(group).second) return "group " + group + " is in the ring and held";
    if (!groups_waiting.count(group)) return "group " + group + " is held without waiting jobs";
  }
  // Every group with waiting jobs takes turns; a ring entry may outlive its group's last waiting
  // job (removed or cancelled) until claim reaches it.
  if (!std::includes(in_turn.begin(), in_turn.end(), groups_waiting.begin(),
                     groups_waiting.end())) {
    std::vector<std::string> a(in_turn.begin(), in_turn.end());
    std::vector<std::string> b(groups_waiting.begin(), groups_waiting.end());
    return "groups in turn or held: " + JoinList(a, ",") +
           "; groups with waiting jobs: " + JoinList(b, ",") +
           " (a group outside both is never served)";
  }

  // Order: priority, then FIFO, in each structure (jobs queued under aging aside).
  auto check_order = [&](const std::vector<std::string>& ids, const std::string& name) {
    std::vector<const Job*> jobs;
    for (const auto& id : ids) {
      const Job* job = m.Find(id);
      if (!job->aged) jobs.push_back(job);
    }
    for (size_t i = 1; i < jobs.size(); ++i) {
      if (QueueModel::RunsBefore(jobs[i], jobs[i - 1])) {
        return name + ": " + jobs[i]->id + " is behind " + jobs[i - 1]->id +
               " but should run first (priority, then FIFO)";
      }
    }
    return std::string();
  };
  for (const auto& [ids, name] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {wait, "wait"}, {prio, "prio"}}) {
    std::string error = check_order(ids, name);
    if (!error.empty()) return error;
  }
  for (const auto& [group, ids] : group_zsets) {
    std::string error = check_order(ids, "gw:" + group);
    if (!error.empty()) return error;
  }

  // Unique keys: each key maps to its holder; the back map lists the holders that hold one.
  std::map<std::string, std::string> stored_keys;
  for (const auto& key : Strings({"KEYS", k.base() + "u:*"})) {
    stored_keys[key.substr(k.base().size() + 2)] = std::string(Redis({"GET", key}).view().str());
  }
  std::map<std::string, std::string> model_keys;
  for (const auto& [key, holder] : m.unique()) model_keys[key] = holder.holder;
  if (stored_keys != model_keys) return "unique keys differ from the model";
  auto back = Strings({"HGETALL", k.base() + "uk"});
  std::map<std::string, std::string> stored_back, model_back;
  for (size_t i = 0; i + 1 < back.size(); i += 2) stored_back[back[i]] = back[i + 1];
  for (const auto& [id, job] : m.jobs()) {
    if (!job.unique_key.empty()) model_back[id] = job.unique_key;
  }
  if (stored_back != model_back) return "the unique back map (uk) differs from the model";

  // Overrun marks: one per job the model says has one, naming its token.
  auto marks = Strings({"HGETALL", k.overrun()});
  std::map<std::string, int64_t> stored_marks, model_marks;
  for (size_t i = 0; i + 1 < marks.size(); i += 2) {
    stored_marks[marks[i]] =
        broker::ParseTokenText(marks[i + 1].substr(0, marks[i + 1].find(':'))).value_or(-1);
  }
  for (const auto& [id, job] : m.jobs()) {
    if (job.overrun_mark != 0) model_marks[id] = job.overrun_mark;
  }
  if (stored_marks != model_marks) return "overrun marks differ from the model";

  // Hooks: "u" for each job with a callback that has not completed (dead ones keep theirs), and
  // a flow job's hook until it completes.
  auto hooks = Strings({"HGETALL", k.hooks()});
  std::map<std::string, std::string> stored_hooks, model_hooks;
  for (size_t i = 0; i + 1 < hooks.size(); i += 2) stored_hooks[hooks[i]] = hooks[i + 1];
  for (const auto& [id, job] : m.jobs()) {
    if (job.st == St::kCompleted) continue;
    if (!job.flow.empty()) {
      model_hooks[id] = job.hook;
    } else if (job.hooked) {
      model_hooks[id] = "u";
    }
  }
  if (stored_hooks != model_hooks) return "hooks differ from the model";

  // What the broker reports.
  auto counts = broker_->Counts(m.name());
  if (!counts.ok()) return "counts failed: " + counts.status().ToString();
  auto n = [&](St st) { return static_cast<int64_t>(m.InState(st).size()); };
  if (counts->waiting != n(St::kWaiting) || counts->delayed != n(St::kDelayed) ||
      counts->active != n(St::kActive) || counts->retrying != n(St::kRetrying) ||
      counts->completed != n(St::kCompleted) || counts->dead != n(St::kDead) ||
      counts->held != n(St::kHeld) || counts->paused != m.paused ||
      counts->enqueued_total != m.enqueued_total || counts->retried_total != m.retried_total ||
      counts->dead_total != m.dead_total ||
      counts->overrunning != static_cast<int64_t>(model_marks.size())) {
    return "Counts differ from the model";
  }
  return "";
}

std::string ModelRun::CheckCallbacks() {
  const broker::QueueKeys& k = main_->keys;
  // Entry id -> what it reports (job id, outcome), from the outbox and from the webhook jobs.
  std::map<std::string, std::pair<std::string, std::string>> reported;
  broker::Reply entries = Redis({"XRANGE", k.outbox(), "-", "+"});
  for (size_t i = 0; i < entries.view().size(); ++i) {
    std::map<std::string, std::string> fields;
    const auto list = entries.view()[i][1];
    for (size_t f = 0; f + 1 < list.size(); f += 2) {
      fields[std::string(list[f].str())] = std::string(list[f + 1].str());
    }
    reported[std::string(entries.view()[i][0].str())] = {fields["id"], fields["o"]};
  }
  const std::string prefix = "cb:" + main_->model.name() + ":";
  auto bodies = Strings({"HGETALL", callback_keys_->jobs()});
  for (size_t i = 0; i + 1 < bodies.size(); i += 2) {
    const std::string& id = bodies[i];
    if (id.rfind(prefix, 0) != 0) return "callback job " + id + " names no entry";
    auto body = DecodeJobBody(bodies[i + 1], "c");
    if (!body.ok() || body->type != "webhook") return "callback job " + id + ": not a webhook";
    boost::system::error_code ec;
    json::value data = json::parse(body->data_json, ec);
    const json::object* payload = ec ? nullptr : data.at("body").if_object();
    if (payload == nullptr) return "callback job " + id + ": no body";
    const std::string type(payload->at("type").as_string());
    const std::pair<std::string, std::string> what = {
        std::string(payload->at("job").at("id").as_string()), type.substr(type.find('.') + 1)};
    auto [it, added] = reported.emplace(id.substr(prefix.size()), what);
    if (!added && it->second != what) return "callback job " + id + " differs from its entry";
  }
  std::multiset<std::pair<std::string, std::string>> stored;
  for (const auto& [entry, what] : reported) stored.insert(what);
  std::multiset<std::pair<std::string, std::string>> owed;
  for (const CallbackOwed& c : main_->model.callbacks()) owed.insert({c.id, StName(c.st)});
  if (stored != owed) {
    return "callbacks: " + std::to_string(stored.size()) + " reported (outbox and webhook jobs), " +
           std::to_string(owed.size()) + " owed by the model";
  }
  return "";
}

}  // namespace taskq::model
