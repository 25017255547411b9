// RedisBroker: flows and batches (docs/workflows.md). A flow or a batch lives in one queue, its
// root's: its commit is one script call, and every later step of it happens inside the scripts
// that finish, cancel or retry its jobs (lua/include/flows.lua). Jobs of a flow in other queues
// are dispatched, cancelled and report back through the queues' outboxes (ApplyFlowEntries).
#include <algorithm>
#include <charconv>
#include <map>

#include "broker/redis_broker.h"
#include "broker/script_keys.h"
#include "common/flow_ids.h"

namespace taskq::broker {
namespace {

std::optional<JoinState> JoinFromLetter(std::string_view letter) {
  if (letter == "w") return JoinState::kWaiting;
  if (letter == "r") return JoinState::kReleased;
  if (letter == "f") return JoinState::kFailed;
  if (letter == "x") return JoinState::kCancelled;
  return std::nullopt;
}

// "st:total:pending:completed:dead_fail:dead_ignore:dead_continue:override" (flows.lua).
std::optional<FlowJoin> ParseJoin(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 8) return std::nullopt;
  std::optional<JoinState> state = JoinFromLetter(parts[0]);
  if (!state) return std::nullopt;
  int64_t n[6] = {};
  for (int i = 0; i < 6; ++i) {
    auto [end, ec] =
        std::from_chars(parts[i + 1].data(), parts[i + 1].data() + parts[i + 1].size(), n[i]);
    if (ec != std::errc() || end != parts[i + 1].data() + parts[i + 1].size()) return std::nullopt;
  }
  FlowJoin join;
  join.state = *state;
  join.children = n[0];
  join.pending = n[1];
  join.completed = n[2];
  join.dead = n[3] + n[4] + n[5];
  join.overridden = parts[7] == "1";
  return join;
}

// The nodes of flow_read.lua's reply, six fields each: ref, parent, policy, state ("" when the
// job is gone or in another queue), cancelled (0/1), queue ("": the flow's). Without their joins.
Result<std::vector<FlowNode>> ParseNodes(ReplyView nodes, std::string_view flow_key) {
  if (nodes.size() % 6 != 0) return Internal("flow_read: bad nodes");
  std::vector<FlowNode> out;
  for (size_t i = 0; i < nodes.size(); i += 6) {
    FlowNode& node = out.emplace_back();
    node.ref = std::string(nodes[i].str());
    node.parent = std::string(nodes[i + 1].str());
    node.id = FlowJobId(flow_key, node.ref);
    node.on_failure = ParseChildFailurePolicy(nodes[i + 2].str()).value_or(node.on_failure);
    if (!nodes[i + 3].str().empty()) {
      node.state = ParseJobState(nodes[i + 3].str());
      if (!node.state) return Internal("flow_read: bad state of " + node.id);
    }
    node.cancelled = nodes[i + 4].str() == "1";
    node.queue = std::string(nodes[i + 5].str());
    node.parked = !node.queue.empty() && node.state.has_value();
  }
  return out;
}

std::string FieldOr(const OutboxEntry& entry, std::string_view name, std::string_view absent) {
  const std::string* value = entry.Field(name);
  return value != nullptr ? *value : std::string(absent);
}

}  // namespace

Result<FlowCommitOutcome> RedisBroker::CommitFlow(const std::string& queue,
                                                  const FlowCommit& commit) {
  if (commit.jobs.empty()) return InvalidArgument("jobs", "a flow needs at least one job");
  if (commit.retention.count() < 0 || commit.retention > std::chrono::hours(24 * 365 * 10)) {
    return InvalidArgument("retention_ms", "must be from 0 to 10 years");
  }
  const QueueKeys& k = Keys(queue);
  ScriptCall call("flow_commit", FlowCommitKeys(k));
  call.Arg(k.base()).Arg(commit.flow_key).Arg(static_cast<int64_t>(commit.retention.count()));
  call.Arg(static_cast<int64_t>(commit.jobs.size()));
  for (const FlowCommitJob& f : commit.jobs) {
    const NewJob& job = f.job;
    if (job.unique) return InvalidArgument("unique", "a flow's jobs cannot be unique");
    call.Arg(f.ref).Arg(f.parent).Arg(ChildFailurePolicyName(f.on_failure));
    call.Arg(job.id).Arg(job.body).Arg(JobOptionsArg(job));
  }
  int64_t remote = 0;
  for (const FlowCommitJob& f : commit.jobs) remote += f.queue.empty() || f.queue == queue ? 0 : 1;
  call.Arg(remote);
  for (const FlowCommitJob& f : commit.jobs) {
    if (!f.queue.empty() && f.queue != queue) call.Arg(f.ref).Arg(f.queue);
  }
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(QueueFullError(*reply));
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "flow_commit"));
  switch (reply->view().AsInt(-9)) {
    case 1:
      break;
    case 0:
      return FlowCommitOutcome::kExisted;
    case -2:
      return FlowCommitOutcome::kConflict;
    default:
      return Internal("flow_commit: bad reply");
  }
  const uint16_t slot = k.slot();
  TASKQ_RETURN_IF_ERROR(WaitForReplicas(std::span<const uint16_t>(&slot, 1)));
  return FlowCommitOutcome::kCreated;
}

Result<std::optional<FlowView>> RedisBroker::ReadFlow(const std::string& queue,
                                                      const std::string& flow_key) {
  const QueueKeys& k = Keys(queue);
  ScriptCall call("flow_read", FlowReadKeys(k));
  call.Arg(k.base()).Arg(flow_key);
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "flow_read"));
  const ReplyView v = reply->view();
  if (v.size() == 0) return std::optional<FlowView>();
  if (v.size() != 3) return Internal("flow_read: bad reply");
  FlowView flow;
  flow.id = FlowIdOf({queue, flow_key});
  flow.queue = queue;
  std::map<std::string, FlowJoin, std::less<>> joins;
  const ReplyView record = v[0];
  for (size_t i = 0; i + 1 < record.size(); i += 2) {
    const std::string_view field = record[i].str();
    const std::string_view value = record[i + 1].str();
    if (field == "kind" && value == "batch") {
      return std::optional<FlowView>();  // a batch: ReadBatch
    } else if (field == "st") {
      flow.state = std::string(value);
    } else if (field == "c") {
      flow.created_ms = record[i + 1].AsInt();
    } else if (field == "f") {
      flow.finished_ms = record[i + 1].AsInt();
    } else if (field.starts_with("j:")) {
      std::optional<FlowJoin> join = ParseJoin(value);
      if (!join) return Internal("flow_read: bad join " + std::string(field));
      joins.emplace(std::string(field.substr(2)), *join);
    }
  }
  auto nodes = ParseNodes(v[1], flow_key);
  if (!nodes.ok()) return nodes.status();
  flow.nodes = std::move(*nodes);
  for (FlowNode& node : flow.nodes) {
    if (auto it = joins.find(node.ref); it != joins.end()) node.join = it->second;
  }
  TASKQ_RETURN_IF_ERROR(ReadRemoteStates(flow.nodes));
  std::sort(flow.nodes.begin(), flow.nodes.end(),
            [](const FlowNode& a, const FlowNode& b) { return a.ref < b.ref; });
  return std::optional<FlowView>(std::move(flow));
}

Status RedisBroker::ReadRemoteStates(std::vector<FlowNode>& nodes) {
  // The jobs dispatched to other queues, by queue: one job_states.lua call per queue.
  std::map<std::string, std::vector<FlowNode*>, std::less<>> by_queue;
  for (FlowNode& node : nodes) {
    if (!node.queue.empty() && !node.state) by_queue[node.queue].push_back(&node);
  }
  for (auto& [queue, remote] : by_queue) {
    constexpr size_t kPart = 10000;  // job_states.lua's bound
    for (size_t first = 0; first < remote.size(); first += kPart) {
      const size_t last = std::min(remote.size(), first + kPart);
      const QueueKeys& k = Keys(queue);
      ScriptCall call("job_states", JobStatesKeys(k));
      call.Arg(k.base());
      for (size_t i = first; i < last; ++i) call.Arg(remote[i]->id);
      auto reply = RunScript(k.slot(), call.Take());
      if (!reply.ok()) return reply.status();
      TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "job_states"));
      const ReplyView v = reply->view();
      if (v.size() != 2 * (last - first)) return Internal("job_states: bad reply");
      for (size_t i = first; i < last; ++i) {
        const std::string_view st = v[2 * (i - first)].str();
        if (st.empty()) continue;
        remote[i]->state = ParseJobState(st);
        if (!remote[i]->state) return Internal("job_states: bad state of " + remote[i]->id);
        remote[i]->cancelled = v[2 * (i - first) + 1].str() == "1";
      }
    }
  }
  return Status::Ok();
}

Result<int64_t> RedisBroker::ApplyFlowEntries(const std::string& target, const std::string& source,
                                              std::span<const OutboxEntry> entries) {
  if (entries.empty()) return 0;
  if (entries.size() > 1000) return InvalidArgument("entries", "at most 1000");
  const FlowEntryClass kind = FlowEntryClassOf(entries.front());
  if (kind == FlowEntryClass::kNone) return InvalidArgument("entries", "not flow entries");
  const QueueKeys& k = Keys(target);
  ScriptCall call(kind == FlowEntryClass::kDelivery ? "flow_deliver" : "flow_apply",
                  FlowEntryKeys(k));
  call.Arg(k.base()).Arg(source).Arg(static_cast<int64_t>(entries.size()));
  for (const OutboxEntry& entry : entries) {
    if (FlowEntryClassOf(entry) != kind || FieldOr(entry, "q", "") != target) {
      return InvalidArgument("entries", "entry " + entry.id + " is for another queue or script");
    }
    const std::string kind_name = FieldOr(entry, "k", "");
    const std::string u = FieldOr(entry, "u", "");
    const std::string ref = FieldOr(entry, "ref", "");
    if (kind == FlowEntryClass::kDelivery) {
      // flow_deliver.lua: kind, u, gen, keep_ms, epoch, then the job as flow_jobs.lua reads it.
      const bool dispatch = kind_name == "fd";
      call.Arg(kind_name).Arg(u).Arg(FieldOr(entry, "g", "")).Arg(FieldOr(entry, "keep", "0"));
      call.Arg(dispatch ? "" : FieldOr(entry, "e", "")).Arg(ref);
      call.Arg(FieldOr(entry, "p", "")).Arg(FieldOr(entry, "pol", ""));
      call.Arg(dispatch ? FlowJobId(u, ref) : "").Arg(FieldOr(entry, "b", ""));
      call.Arg(FieldOr(entry, "o", ""));
    } else {
      // flow_apply.lua: kind, u, gen, ref, epoch, outcome, text.
      call.Arg(kind_name).Arg(u).Arg(FieldOr(entry, "g", "")).Arg(ref);
      call.Arg(FieldOr(entry, "e", "")).Arg(FieldOr(entry, "o", "")).Arg(FieldOr(entry, "r", ""));
    }
  }
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  if (reply->view().is_error() && reply->view().str().find("ERR invalid") != std::string::npos) {
    return InvalidArgument("entries", std::string(reply->view().str()));
  }
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "flow entries"));
  return reply->view().AsInt(0);
}

Result<BatchCommitOutcome> RedisBroker::CommitBatch(const std::string& queue,
                                                    const BatchCommit& commit) {
  const bool creation = commit.addition.empty();
  if (commit.retention.count() < 0 || commit.retention > std::chrono::hours(24 * 365 * 10)) {
    return InvalidArgument("retention_ms", "must be from 0 to 10 years");
  }
  if (!creation && (commit.members.empty() || commit.on_complete || commit.on_success)) {
    return InvalidArgument("jobs", "an addition holds members only, at least one");
  }
  const QueueKeys& k = Keys(queue);
  ScriptCall call("batch_commit", BatchCommitKeys(k));
  call.Arg(k.base()).Arg(commit.batch_key).Arg(static_cast<int64_t>(commit.retention.count()));
  call.Arg(commit.open ? "1" : "0").Arg(commit.addition);
  const size_t n =
      commit.members.size() + (commit.on_complete ? 1 : 0) + (commit.on_success ? 1 : 0);
  call.Arg(static_cast<int64_t>(n));
  auto add = [&](const NewJob& job, const std::string& ref, std::string_view parent) {
    call.Arg(ref).Arg(std::string(parent)).Arg("fail");
    call.Arg(job.id).Arg(job.body).Arg(JobOptionsArg(job));
  };
  for (size_t i = 0; i < commit.members.size(); ++i) {
    if (commit.members[i].unique)
      return InvalidArgument("unique", "a batch's jobs cannot be unique");
    add(commit.members[i], BatchMemberRef(commit.addition, i), kBatchMemberParent);
  }
  for (const std::optional<NewJob>* callback : {&commit.on_complete, &commit.on_success}) {
    if (*callback && (*callback)->unique) {
      return InvalidArgument("unique", "a batch's jobs cannot be unique");
    }
  }
  if (commit.on_complete) {
    add(*commit.on_complete, std::string(kBatchOnComplete), kBatchCallbackParent);
  }
  if (commit.on_success)
    add(*commit.on_success, std::string(kBatchOnSuccess), kBatchCallbackParent);
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(QueueFullError(*reply));
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "batch_commit"));
  switch (reply->view().AsInt(-9)) {
    case 1:
      break;
    case 0:
      return BatchCommitOutcome::kExisted;
    case -2:
      return BatchCommitOutcome::kConflict;
    case -3:
      return BatchCommitOutcome::kNotFound;
    case -4:
      return BatchCommitOutcome::kFinished;
    default:
      return Internal("batch_commit: bad reply");
  }
  const uint16_t slot = k.slot();
  TASKQ_RETURN_IF_ERROR(WaitForReplicas(std::span<const uint16_t>(&slot, 1)));
  return BatchCommitOutcome::kCreated;
}

Result<BatchCloseOutcome> RedisBroker::CloseBatch(const std::string& queue,
                                                  const std::string& batch_key) {
  const QueueKeys& k = Keys(queue);
  ScriptCall call("batch_close", BatchCloseKeys(k));
  call.Arg(k.base()).Arg(batch_key);
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "batch_close"));
  switch (reply->view().AsInt(-9)) {
    case 1:
      return BatchCloseOutcome::kClosed;
    case 0:
      return BatchCloseOutcome::kAlreadyClosed;
    case -3:
      return BatchCloseOutcome::kNotFound;
    default:
      return Internal("batch_close: bad reply");
  }
}

Result<BatchCancelOutcome> RedisBroker::CancelBatch(const std::string& queue,
                                                    const std::string& batch_key) {
  // In steps (batch_cancel.lua): a large batch never holds Redis for long in one call.
  constexpr int64_t kMembersPerStep = 1000;
  const QueueKeys& k = Keys(queue);
  int64_t from = 0;
  do {
    ScriptCall call("batch_cancel", BatchCancelKeys(k));
    call.Arg(k.base()).Arg(batch_key).Arg(from).Arg(kMembersPerStep);
    auto reply = RunScript(k.slot(), call.Take());
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "batch_cancel"));
    const ReplyView v = reply->view();
    if (v.size() != 2) return Internal("batch_cancel: bad reply");
    const int64_t status = v[0].AsInt(-9);
    if (status == 0 && from == 0) return BatchCancelOutcome::kFinished;
    if (status == -3 && from == 0) return BatchCancelOutcome::kNotFound;
    if (status != 1) return Internal("batch_cancel: a later step was refused");
    from = v[1].AsInt(-1);
    if (from < 0) return Internal("batch_cancel: bad reply");
  } while (from > 0);
  return BatchCancelOutcome::kCancelled;
}

Result<std::optional<BatchView>> RedisBroker::ReadBatch(const std::string& queue,
                                                        const std::string& batch_key) {
  const QueueKeys& k = Keys(queue);
  ScriptCall call("flow_read", FlowReadKeys(k));
  call.Arg(k.base()).Arg(batch_key);
  auto reply = RunScript(k.slot(), call.Take());
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "flow_read"));
  const ReplyView v = reply->view();
  if (v.size() == 0) return std::optional<BatchView>();
  if (v.size() != 3) return Internal("flow_read: bad reply");
  BatchView batch;
  batch.id = FlowIdOf({queue, batch_key});
  batch.queue = queue;
  bool is_batch = false, open = false;
  std::string st;
  std::optional<FlowJoin> join;
  const ReplyView record = v[0];
  for (size_t i = 0; i + 1 < record.size(); i += 2) {
    const std::string_view field = record[i].str();
    const std::string_view value = record[i + 1].str();
    if (field == "kind") {
      is_batch = value == "batch";
    } else if (field == "st") {
      st = std::string(value);
    } else if (field == "open") {
      open = value == "1";
    } else if (field == "c") {
      batch.created_ms = record[i + 1].AsInt();
    } else if (field == "f") {
      batch.finished_ms = record[i + 1].AsInt();
    } else if (field == "j:*") {
      join = ParseJoin(value);
      if (!join) return Internal("flow_read: bad batch join");
    }
  }
  if (!is_batch) return std::optional<BatchView>();  // a flow: ReadFlow
  if (!join) return Internal("flow_read: a batch without its join");
  batch.state = st == "finished" ? BatchState::kFinished
                : open           ? BatchState::kOpen
                                 : BatchState::kRunning;
  batch.cancelled = join->state == JoinState::kCancelled;
  batch.total = join->children;
  batch.pending = join->pending;
  batch.completed = join->completed;
  batch.dead = join->dead;
  // A batch's tree holds its callbacks only.
  auto nodes = ParseNodes(v[1], batch_key);
  if (!nodes.ok()) return nodes.status();
  for (FlowNode& node : *nodes) {
    BatchCallback callback{std::move(node.id), node.state, node.cancelled};
    if (node.ref == kBatchOnComplete) {
      batch.on_complete = std::move(callback);
    } else if (node.ref == kBatchOnSuccess) {
      batch.on_success = std::move(callback);
    }
  }
  return std::optional<BatchView>(std::move(batch));
}

Result<std::vector<FlowChild>> RedisBroker::FlowChildren(const std::string& queue,
                                                         const std::string& flow_key,
                                                         const std::string& parent_ref) {
  const QueueKeys& k = Keys(queue);
  auto reply = Run(k.slot(), Command{"HGETALL", k.flow_results(flow_key, parent_ref)});
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "flow children"));
  std::vector<FlowChild> children;
  const ReplyView v = reply->view();
  for (size_t i = 0; i + 1 < v.size(); i += 2) {
    // "c<result>" or "d<error>" (flows.lua)
    const std::string_view value = v[i + 1].str();
    if (value.empty() || (value[0] != 'c' && value[0] != 'd')) continue;
    FlowChild child;
    child.ref = std::string(v[i].str());
    child.id = FlowJobId(flow_key, child.ref);
    child.completed = value[0] == 'c';
    child.json = std::string(value.substr(1));
    children.push_back(std::move(child));
  }
  std::sort(children.begin(), children.end(),
            [](const FlowChild& a, const FlowChild& b) { return a.ref < b.ref; });
  return children;
}

}  // namespace taskq::broker
