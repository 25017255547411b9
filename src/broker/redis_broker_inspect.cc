// RedisBroker: reads and operator actions on jobs and queues, and the event streams.
#include <algorithm>
#include <charconv>
#include <limits>
#include <thread>

#include "broker/redis_broker.h"
#include "common/job_codec.h"
#include "common/text_list.h"

namespace taskq::broker {

namespace {

// Reads about several shards sent in one round trip: read i goes to slots[i] and is about shard
// of[i].
struct ShardReads {
  std::vector<Command> commands;
  std::vector<uint16_t> slots;
  std::vector<size_t> of;

  void Add(Command command, uint16_t slot, size_t shard) {
    commands.push_back(std::move(command));
    slots.push_back(slot);
    of.push_back(shard);
  }
};

// What counting one shard reads, in one round trip (kShardCountReads commands);
// ParseShardCounts reads the replies in this order.
// One shard's limits from its meta (HMGET rl cc grl gcc gf ag ml cct, as queue_limits.lua
// writes them); *total_concurrency gets meta.cct (0: none).
Result<QueueLimits> ParseShardLimits(const Reply& reply, int64_t* total_concurrency) {
  TASKQ_RETURN_IF_ERROR(ReplyError(reply, "limits"));
  ReplyView v = reply.view();
  if (v.size() != 8) return Internal("limits: bad reply");
  // A rate is "max:window_ms", as queue_limits.lua writes it.
  auto rate = [](ReplyView field) {
    RateLimit out;
    if (field.is_nil()) return out;
    std::string_view text = field.str();
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) return out;  // not written by queue_limits.lua
    int64_t window = 0;
    std::from_chars(text.data(), text.data() + colon, out.max);
    std::from_chars(text.data() + colon + 1, text.data() + text.size(), window);
    out.window = std::chrono::milliseconds(window);
    return out;
  };
  QueueLimits limits;
  limits.rate = rate(v[0]);
  if (!v[1].is_nil()) limits.concurrency = static_cast<int32_t>(v[1].AsInt());
  limits.group_rate = rate(v[2]);
  if (!v[3].is_nil()) limits.group_concurrency = static_cast<int32_t>(v[3].AsInt());
  if (!v[4].is_nil()) limits.group_field = std::string(v[4].str());
  if (!v[5].is_nil()) limits.priority_aging = std::chrono::milliseconds(v[5].AsInt());
  if (!v[6].is_nil()) limits.max_length = v[6].AsInt();
  *total_concurrency = v[7].is_nil() ? 0 : v[7].AsInt();
  return limits;
}

constexpr size_t kShardCountReads = 15;
std::vector<Command> ShardCountCommands(const QueueKeys& k) {
  return {{"LLEN", k.wait()},
          {"ZCARD", k.prioritized()},
          {"ZCARD", k.delayed()},
          {"ZCARD", k.active()},
          {"ZCARD", k.completed()},
          {"ZCARD", k.retry()},
          {"ZCARD", k.dead()},
          {"HMGET", k.meta(), "paused", "completed", "failed", "stalled", "gwaiting", "overran",
           "enqueued", "retried", "dead", "sv"},
          {"LINDEX", k.wait(), "0"},
          {"ZRANGE", k.prioritized(), "0", "0"},
          {"TIME"},
          // the groups whose turns come next (empty: the ungrouped jobs' turn)
          {"LRANGE", k.group_ring(), "0", std::to_string(RedisBroker::kGroupsForOldest - 1)},
          {"HLEN", k.overrun()},
          {"XLEN", k.outbox()},
          {"ZCARD", k.held()}};
}

// The counts in the replies to ShardCountCommands(k) (shard `shard` of a CountShards call), and
// the reads that find its oldest waiting job: the bodies of the jobs at its heads (`heads`) and,
// when grouped jobs wait, the heads of the groups next on its ring (`group_heads`).
Status ParseShardCounts(const QueueKeys& k, size_t shard, std::span<const Reply> replies,
                        QueueCounts* c, ShardReads* heads, ShardReads* group_heads) {
  if (replies.size() != kShardCountReads) return Internal("counts: bad reply");
  for (const Reply& r : replies) TASKQ_RETURN_IF_ERROR(ReplyError(r, "counts"));
  c->waiting = replies[0].view().AsInt() + replies[1].view().AsInt();
  c->delayed = replies[2].view().AsInt();
  c->active = replies[3].view().AsInt();
  c->completed = replies[4].view().AsInt();
  c->retrying = replies[5].view().AsInt();
  c->dead = replies[6].view().AsInt();
  ReplyView meta = replies[7].view();
  c->paused = meta[0].str() == "1";
  c->completed_total = meta[1].AsInt();
  c->failed_total = meta[2].AsInt();
  c->stalled_total = meta[3].AsInt();
  c->waiting += meta[4].AsInt();  // grouped jobs wait in their groups' zsets (requeue.lua)
  c->overran_total = meta[5].AsInt();
  c->enqueued_total = meta[6].AsInt();
  c->retried_total = meta[7].AsInt();
  c->dead_total = meta[8].AsInt();
  c->overrunning = replies[12].view().AsInt();
  c->callbacks_pending = replies[13].view().AsInt();
  c->held = replies[14].view().AsInt();
  ReplyView time = replies[10].view();
  c->now_ms = time[0].AsInt() * 1000 + time[1].AsInt() / 1000;
  if (!replies[8].view().is_nil()) {
    heads->Add({"HGET", k.jobs(), replies[8].view().str()}, k.slot(), shard);
  }
  if (replies[9].view().size() == 1) {
    heads->Add({"HGET", k.jobs(), replies[9].view()[0].str()}, k.slot(), shard);
  }
  // Grouped jobs wait in their groups' zsets: the heads of the groups next on the ring run next.
  if (meta[4].AsInt() > 0) {
    const ReplyView ring = replies[11].view();
    for (size_t i = 0; i < ring.size(); ++i) {
      if (ring[i].str().empty()) continue;
      group_heads->Add({"ZRANGE", k.group_waiting(ring[i].str()), "0", "0"}, k.slot(), shard);
    }
  }
  return Status::Ok();
}

// The created time a job's body begins with ({"c":<created ms>, as enqueue.lua writes it); 0
// when the reply is no such body.
int64_t CreatedMs(const Reply& body) {
  std::string_view text = body.view().is_string() ? body.view().str() : "";
  if (!text.starts_with("{\"c\":")) return 0;
  int64_t created = 0;
  for (size_t i = 5; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    created = created * 10 + (text[i] - '0');
  }
  return created;
}

}  // namespace

Result<bool> RedisBroker::Promote(const std::string& queue, const std::string& id) {
  auto tag = ShardOfJob(queue, id);
  if (!tag.ok()) return tag.status();
  const QueueKeys& k = Keys(*tag);
  ScriptCall call("promote", PromoteKeys(k));
  call.Arg(k.base()).Arg(id);
  auto n = RunIntScript(k.slot(), call.Take(), "promote");
  if (!n.ok()) return n.status();
  return *n == 1;
}

Result<RemoveOutcome> RedisBroker::Remove(const std::string& queue, const std::string& id,
                                          RemoveMode mode) {
  auto tag = ShardOfJob(queue, id);
  if (!tag.ok()) return tag.status();
  const QueueKeys& k = Keys(*tag);
  ScriptCall call("remove", RemoveKeys(k));
  call.Arg(k.base()).Arg(id).Arg(mode == RemoveMode::kCancel ? "cancel" : "remove");
  auto n = RunIntScript(k.slot(), call.Take(), "remove");
  if (!n.ok()) return n.status();
  switch (*n) {
    case 1:
      return RemoveOutcome::kRemoved;
    case 2:
      return RemoveOutcome::kStopRequested;
    case -1:
      return RemoveOutcome::kRefused;
    default:
      return RemoveOutcome::kNotFound;
  }
}

Result<int64_t> RedisBroker::RetryDead(const std::string& queue, std::span<const std::string> ids,
                                       int32_t limit) {
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  // Each shard's part (its own ids, or its oldest `limit` dead jobs), all in one round trip.
  std::vector<std::vector<std::string>> ids_of(layout->tags.size());
  if (!ids.empty() && layout->shards() > 1) {
    auto shards = ShardsOfJobs(*layout, ids);
    if (!shards.ok()) return shards.status();
    for (size_t i = 0; i < ids.size(); ++i) {
      if ((*shards)[i] >= 0) ids_of[static_cast<size_t>((*shards)[i])].push_back(ids[i]);
    }
  } else if (!ids.empty()) {
    ids_of[0].assign(ids.begin(), ids.end());
  }
  std::vector<Command> calls;
  std::vector<uint16_t> slots;
  for (size_t s = 0; s < layout->tags.size(); ++s) {
    if (!ids.empty() && ids_of[s].empty()) continue;
    const QueueKeys& k = Keys(layout->tags[s]);
    ScriptCall call("retry_dead", RetryDeadKeys(k));
    call.Arg(k.base()).Arg(std::clamp(limit, 1, 1000));
    for (const std::string& id : ids_of[s]) call.Arg(id);
    calls.push_back(call.Take());
    slots.push_back(k.slot());
  }
  std::vector<Reply> replies;
  if (!calls.empty()) TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  int64_t retried = 0;
  for (const Reply& reply : replies) {
    TASKQ_RETURN_IF_ERROR(ReplyError(reply, "retry_dead"));
    retried += reply.view().AsInt();
  }
  return retried;
}

Result<int64_t> RedisBroker::SetAllPaused(bool paused) {
  auto queues = Queues();
  if (!queues.ok()) return queues.status();
  int64_t changed = 0;
  for (const std::string& queue : *queues) {
    auto one = SetPaused(queue, paused);
    if (!one.ok()) return one.status();
    changed += *one ? 1 : 0;
  }
  return changed;
}

Command RedisBroker::QueueLimitsCall(const QueueKeys& k, const QueueLimits& limits,
                                     const ShareOf* share) {
  ScriptCall call("queue_limits", QueueLimitsKeys(k));
  call.Arg(k.base()).Arg(limits.rate.max).Arg(static_cast<int64_t>(limits.rate.window.count()));
  call.Arg(limits.concurrency).Arg(limits.group_rate.max);
  call.Arg(static_cast<int64_t>(limits.group_rate.window.count()));
  call.Arg(limits.group_concurrency).Arg(limits.group_field);
  call.Arg(static_cast<int64_t>(limits.priority_aging.count())).Arg(limits.max_length);
  if (share != nullptr) {
    call.Arg("share").Arg(share->layout_version).Arg(share->total_concurrency);
    call.Arg(share->generation).Arg(share->token);
  }
  return call.Take();
}

Status RedisBroker::SetLimits(const std::string& queue, const QueueLimits& limits) {
  TASKQ_RETURN_IF_ERROR(RegisterQueue(queue));  // listed (and shown) before its first job
  auto layout = Layout(queue);
  if (!layout.ok()) return layout.status();
  if (layout->shards() > 1) return SetShardedLimits(*layout, limits);
  const QueueKeys& k = Keys(queue);
  auto reply = RunScript(k.slot(), QueueLimitsCall(k, limits, nullptr));
  if (!reply.ok()) return reply.status();
  if (reply->view().is_error() && reply->view().str().starts_with("SHARDED ")) {
    return Status(StatusCode::kFailedPrecondition,
                  "the queue is sharded: " + std::string(reply->view().str().substr(8)), "limits");
  }
  return ReplyError(*reply, "queue_limits");
}

Result<QueueLimits> RedisBroker::GetLimits(const std::string& queue) {
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  // Every shard's limits in one round trip.
  std::vector<Command> reads;
  std::vector<uint16_t> slots;
  for (const std::string& tag : layout->tags) {
    const QueueKeys& k = Keys(tag);
    reads.push_back({"HMGET", k.meta(), "rl", "cc", "grl", "gcc", "gf", "ag", "ml", "cct"});
    slots.push_back(k.slot());
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommandsAcross(slots, reads, &replies));
  int64_t total_concurrency = 0;  // meta.cct at home: a sharded queue's concurrency as set
  auto limits = ParseShardLimits(replies[0], &total_concurrency);
  if (!limits.ok() || layout->shards() == 1) return limits;
  // A sharded queue's rate and maximum length are its shards' shares summed; the rest is the
  // same on every shard.
  for (size_t i = 1; i < replies.size(); ++i) {
    int64_t unused = 0;
    auto share = ParseShardLimits(replies[i], &unused);
    if (!share.ok()) return share.status();
    limits->rate.max += share->rate.max;
    limits->concurrency += share->concurrency;
    limits->max_length += share->max_length;
  }
  // The concurrency as set: share_move.lua moves it between the shards, and a move cut short
  // leaves the shares below it until the next balance hands out the rest.
  if (total_concurrency > 0) limits->concurrency = static_cast<int32_t>(total_concurrency);
  return limits;
}

Result<int64_t> RedisBroker::Clean(const std::string& queue, JobState state,
                                   std::chrono::milliseconds older_than, int32_t limit) {
  if (state != JobState::kCompleted && state != JobState::kDead) {
    return InvalidArgument("state", "clean applies to completed and dead jobs");
  }
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  // Each shard up to `limit`, all in one round trip.
  std::vector<Command> calls;
  std::vector<uint16_t> slots;
  for (const std::string& tag : layout->tags) {
    const QueueKeys& k = Keys(tag);
    ScriptCall call("clean", CleanKeys(k, state != JobState::kCompleted));
    call.Arg(k.base()).Arg(static_cast<int64_t>(older_than.count()));
    call.Arg(std::clamp(limit, 1, 10000));
    calls.push_back(call.Take());
    slots.push_back(k.slot());
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  int64_t removed = 0;
  for (const Reply& reply : replies) {
    TASKQ_RETURN_IF_ERROR(ReplyError(reply, "clean"));
    removed += reply.view().AsInt();
  }
  return removed;
}

Result<std::vector<QueueCounts>> RedisBroker::CountShards(std::span<const std::string> tags,
                                                          std::vector<int64_t>* versions) {
  ShardReads counting;
  std::vector<size_t> first;  // the index of each shard's first command, then the end
  for (size_t s = 0; s < tags.size(); ++s) {
    const QueueKeys& k = Keys(tags[s]);
    first.push_back(counting.commands.size());
    for (Command& command : ShardCountCommands(k)) counting.Add(std::move(command), k.slot(), s);
  }
  first.push_back(counting.commands.size());
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommandsAcross(counting.slots, counting.commands, &replies));
  std::vector<QueueCounts> counts(tags.size());
  ShardReads heads, group_heads;
  for (size_t s = 0; s < tags.size(); ++s) {
    const std::span<const Reply> mine(replies.data() + first[s], first[s + 1] - first[s]);
    TASKQ_RETURN_IF_ERROR(
        ParseShardCounts(Keys(tags[s]), s, mine, &counts[s], &heads, &group_heads));
    if (versions != nullptr) versions->push_back(mine[7].view()[9].AsInt());  // meta.sv
  }
  if (!group_heads.commands.empty()) {
    std::vector<Reply> group_replies;
    TASKQ_RETURN_IF_ERROR(
        RunCommandsAcross(group_heads.slots, group_heads.commands, &group_replies));
    for (size_t i = 0; i < group_replies.size(); ++i) {
      const ReplyView head = group_replies[i].view();
      const size_t s = group_heads.of[i];
      if (head.size() == 1) {
        heads.Add({"HGET", Keys(tags[s]).jobs(), head[0].str()}, group_heads.slots[i], s);
      }
    }
  }
  if (heads.commands.empty()) return counts;
  std::vector<Reply> bodies;
  TASKQ_RETURN_IF_ERROR(RunCommandsAcross(heads.slots, heads.commands, &bodies));
  for (size_t i = 0; i < bodies.size(); ++i) {
    const int64_t created = CreatedMs(bodies[i]);
    int64_t& oldest = counts[heads.of[i]].oldest_waiting_created_ms;
    if (created > 0 && (oldest == 0 || created < oldest)) oldest = created;
  }
  return counts;
}

Result<std::vector<std::string>> RedisBroker::ClusterMasters() {
  std::vector<std::string> out;
  if (!endpoint_.via_cluster()) return out;
  TASKQ_RETURN_IF_ERROR(EnsureConnected());
  // Read anew: the connection reads the map again only when a slot redirects, and a master that
  // serves none of the slots in use (one added since) redirects nothing.
  TASKQ_RETURN_IF_ERROR(cluster_->RefreshMap());
  // Those serving slots: a failed master a shard still lists beside its replacement, and a
  // master without slots, serve no shard.
  const SlotMap& map = cluster_->map();
  std::vector<bool> serving(map.masters().size(), false);
  for (int slot = 0; slot < kClusterSlots; ++slot) {
    if (const ClusterNode* master = map.MasterOf(static_cast<uint16_t>(slot))) {
      serving[static_cast<size_t>(master - map.masters().data())] = true;
    }
  }
  for (size_t m = 0; m < serving.size(); ++m) {
    if (serving[m]) out.push_back(map.masters()[m].address());
  }
  return out;
}

Result<JobListing> RedisBroker::ListJobs(const std::string& queue, JobState state,
                                         const JobCursor& from, int64_t limit, ListOrder order) {
  if (from.offset < 0 || limit < 1 || limit > 1000) {
    return InvalidArgument("limit", "must be in [1, 1000] with offset >= 0");
  }
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  if (layout->shards() > 1) return ListShardedJobs(queue, *layout, state, from, limit, order);
  const QueueKeys& k = Keys(queue);
  const bool reversed = order == ListOrder::kReversed;
  std::vector<std::string> ids;
  JobListing listing;
  if (state == JobState::kWaiting) {
    if (from.keyed()) {
      return InvalidArgument("cursor",
                             "belongs to another state; the waiting state pages by offset");
    }
    auto waiting = WaitingIds(k, from.offset, limit, reversed);
    if (!waiting.ok()) return waiting.status();
    ids = std::move(*waiting);
    for (size_t i = 0; i < ids.size(); ++i) {
      listing.after.push_back(JobCursor::AtOffset(from.offset + static_cast<int64_t>(i) + 1));
    }
  } else {
    TASKQ_RETURN_IF_ERROR(SortedStateIds(k, state, from, limit, reversed, &ids, &listing.after));
  }
  std::vector<Command> commands;
  for (const std::string& id : ids) commands.push_back(GetJobCommand(k, id));
  std::vector<Reply> replies;
  if (!commands.empty()) TASKQ_RETURN_IF_ERROR(RunScripts(k.slot(), commands, &replies));
  for (size_t i = 0; i < replies.size(); ++i) {
    auto job = ParseJob(queue, ids[i], replies[i]);
    if (!job.ok()) return job.status();
    listing.jobs.push_back(std::move(*job));
  }
  return listing;
}

Result<std::vector<std::string>> RedisBroker::Queues() {
  const std::string registry = QueueRegistryKey(prefix_);
  auto reply = Run(KeySlot(registry), Command{"SMEMBERS", registry});
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "queues"));
  auto names = ParseStrings(reply->view());
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<JobEvent>> RedisBroker::ReadShardEvents(std::span<EventCursor> cursors,
                                                           std::chrono::milliseconds block,
                                                           int32_t max_events) {
  std::vector<JobEvent> out;
  if (cursors.empty()) return out;
  // A cursor "from now" starts at the stream's last entry (or its beginning, when there is no
  // stream yet), so that nothing recorded between two reads is missed.
  std::vector<Command> heads;
  std::vector<uint16_t> head_slots;
  std::vector<size_t> starting;
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (!cursors[i].last_id.empty()) continue;
    const QueueKeys& k = Keys(cursors[i].queue);
    heads.push_back({"XREVRANGE", k.events(), "+", "-", "COUNT", "1"});
    head_slots.push_back(k.slot());
    starting.push_back(i);
  }
  if (!heads.empty()) {
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunCommandsAcross(head_slots, heads, &replies));
    for (size_t j = 0; j < starting.size(); ++j) {
      TASKQ_RETURN_IF_ERROR(ReplyError(replies[j], "XREVRANGE"));
      ReplyView last = replies[j].view();
      cursors[starting[j]].last_id =
          last.size() > 0 && last[0].size() > 0 ? std::string(last[0][0].str()) : "0-0";
    }
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(ReadStreams(cursors, block, max_events, &replies));
  for (const Reply& reply : replies) {
    const ReplyView streams = reply.view();  // nil when the block timed out
    for (size_t s = 0; s < streams.size(); ++s) {
      const std::string_view key = streams[s][0].str();
      EventCursor* cursor = nullptr;
      for (EventCursor& c : cursors) {
        if (Keys(c.queue).events() == key) cursor = &c;
      }
      if (!cursor) continue;
      const ReplyView entries = streams[s][1];
      for (size_t e = 0; e < entries.size(); ++e) {
        JobEvent event;
        event.queue = cursor->queue;
        event.stream_id = std::string(entries[e][0].str());
        const ReplyView fields = entries[e][1];
        for (size_t f = 0; f + 1 < fields.size(); f += 2) {
          const std::string_view name = fields[f].str(), value = fields[f + 1].str();
          if (name == "e") event.kind = std::string(value);
          if (name == "n") event.count = fields[f + 1].AsInt();
          if (name != "ids") continue;
          for (std::string_view id : SplitList(value)) event.job_ids.emplace_back(id);
        }
        cursor->last_id = event.stream_id;
        out.push_back(std::move(event));
      }
    }
  }
  return out;
}

Status RedisBroker::ReadStreams(std::span<const EventCursor> cursors,
                                std::chrono::milliseconds block, int32_t max_events,
                                std::vector<Reply>* replies) {
  const auto xread = [&](std::span<const EventCursor> some, std::chrono::milliseconds wait) {
    Command command{"XREAD", "COUNT"};
    command.Add(static_cast<long long>(std::max(1, max_events)));
    if (wait.count() > 0) command.Add("BLOCK").Add(static_cast<long long>(wait.count()));
    command.Add("STREAMS");
    for (const EventCursor& c : some) command.Add(Keys(c.queue).events());
    for (const EventCursor& c : some) command.Add(c.last_id);
    return command;
  };
  if (!endpoint_.via_cluster() || cursors.size() == 1) {
    replies->clear();
    auto reply = Run(Keys(cursors.front().queue).slot(), xread(cursors, block));
    if (!reply.ok()) return reply.status();
    TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "XREAD"));
    replies->push_back(std::move(*reply));
    return Status::Ok();
  }
  std::vector<Command> reads;
  std::vector<uint16_t> slots;
  for (const EventCursor& c : cursors) {
    reads.push_back(xread(std::span<const EventCursor>(&c, 1), std::chrono::milliseconds(0)));
    slots.push_back(Keys(c.queue).slot());
  }
  const auto deadline = std::chrono::steady_clock::now() + block;
  while (true) {
    TASKQ_RETURN_IF_ERROR(RunCommandsAcross(slots, reads, replies));
    bool any = false;
    for (const Reply& reply : *replies) {
      TASKQ_RETURN_IF_ERROR(ReplyError(reply, "XREAD"));
      any = any || reply.view().size() > 0;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (any || left <= std::chrono::steady_clock::duration::zero()) return Status::Ok();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, kClusterEventPoll));
  }
}

Command RedisBroker::GetJobCommand(const QueueKeys& k, const std::string& id) {
  ScriptCall call("get_job", GetJobKeys(k));
  call.Arg(k.base()).Arg(id);
  return call.Take();
}

bool RedisBroker::NewestFirst(JobState state) {
  return state == JobState::kCompleted || state == JobState::kDead;
}

Status RedisBroker::SortedStateIds(const QueueKeys& k, JobState state, const JobCursor& from,
                                   int64_t limit, bool reversed, std::vector<std::string>* ids,
                                   std::vector<JobCursor>* after) {
  const std::string* key = nullptr;
  const bool newest_first = NewestFirst(state);
  switch (state) {
    case JobState::kDelayed:
      key = &k.delayed();
      break;
    case JobState::kRetrying:
      key = &k.retry();
      break;
    case JobState::kActive:
      key = &k.active();
      break;
    case JobState::kCompleted:
      key = &k.completed();
      break;
    case JobState::kDead:
      key = &k.dead();
      break;
    case JobState::kHeld:
      key = &k.held();
      break;
    case JobState::kWaiting:
      return InvalidArgument("state", "the waiting state is not one sorted set");
  }
  ScriptCall call("state_page", StatePageKeys(*key));
  call.Arg(newest_first != reversed ? "desc" : "asc").Arg(limit);
  if (from.keyed()) {
    call.Arg("after").Arg(from.after_score).Arg(from.after_id);
  } else {
    call.Arg("offset").Arg(from.offset);
  }
  const std::vector<Command> commands = {call.Take()};
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScripts(k.slot(), commands, &replies));
  TASKQ_RETURN_IF_ERROR(ReplyError(replies[0], "state_page"));
  const ReplyView entries = replies[0].view();
  for (size_t i = 0; i + 1 < entries.size(); i += 2) {
    ids->emplace_back(entries[i].str());
    after->push_back(JobCursor::After(std::string(entries[i + 1].str()), ids->back()));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> RedisBroker::WaitingIds(const QueueKeys& k, int64_t offset,
                                                         int64_t limit, bool reversed) {
  // Run order: negative priorities (prio), priority 0 (the wait list), positive priorities
  // (prio), then the grouped jobs (group_page.lua). Reversed: the same parts, each backwards,
  // in the opposite order.
  std::vector<Command> sizes = {{"ZCOUNT", k.prioritized(), "-inf", "(0"},
                                {"LLEN", k.wait()},
                                {"ZCARD", k.prioritized()},
                                {"HGET", k.meta(), "gwaiting"}};
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommands(k.slot(), sizes, &replies));
  for (const Reply& r : replies) TASKQ_RETURN_IF_ERROR(ReplyError(r, "list"));
  const int64_t n_neg = replies[0].view().AsInt();
  const int64_t n_list = replies[1].view().AsInt();
  const int64_t n_pos = replies[2].view().AsInt() - n_neg;
  const int64_t n_grouped = replies[3].view().AsInt();
  const char* zrange = reversed ? "ZREVRANGE" : "ZRANGE";
  auto prio = [&k, zrange](int64_t skip) {
    return [&k, zrange, skip](int64_t first, int64_t last) {
      Command c{zrange, k.prioritized()};
      return c.Add(skip + first).Add(skip + last);
    };
  };
  ListPart negatives{n_neg, prio(reversed ? n_pos : 0)};
  ListPart positives{n_pos, prio(reversed ? 0 : n_neg)};
  ListPart listed{n_list, [&k, reversed](int64_t first, int64_t last) {
                    Command c{"LRANGE", k.wait()};
                    // From the tail when reversed: -1 is the last job to run.
                    return reversed ? c.Add(-1 - last).Add(-1 - first) : c.Add(first).Add(last);
                  }};
  listed.backwards = reversed;
  ListPart grouped{reversed ? n_grouped : std::numeric_limits<int64_t>::max(),
                   [&k, reversed](int64_t first, int64_t last) {
                     ScriptCall call("group_page", GroupPageKeys(k));
                     call.Arg(k.base()).Arg(first).Arg(last - first + 1);
                     call.Arg(reversed ? "rev" : "");
                     return call.Take();
                   }};
  if (reversed) return ReadParts(k.slot(), {grouped, positives, listed, negatives}, offset, limit);
  return ReadParts(k.slot(), {negatives, listed, positives, grouped}, offset, limit);
}

Result<std::vector<std::string>> RedisBroker::ReadParts(uint16_t slot,
                                                        const std::vector<ListPart>& parts,
                                                        int64_t offset, int64_t limit) {
  const int64_t last = offset + limit - 1;
  std::vector<Command> ranges;
  std::vector<bool> backwards;
  int64_t start = 0;  // the part's first position
  for (const ListPart& part : parts) {
    if (part.size > 0 && offset - start < part.size && last >= start) {
      const int64_t first = std::max<int64_t>(0, offset - start);
      ranges.push_back(part.range(first, std::min(last - start, part.size - 1)));
      backwards.push_back(part.backwards);
    }
    if (part.size > std::numeric_limits<int64_t>::max() - start) break;
    start += part.size;
  }
  std::vector<Reply> replies;
  if (!ranges.empty()) TASKQ_RETURN_IF_ERROR(RunScripts(slot, ranges, &replies));
  std::vector<std::string> ids;
  for (size_t i = 0; i < replies.size(); ++i) {
    TASKQ_RETURN_IF_ERROR(ReplyError(replies[i], "list"));
    auto part = ParseStrings(replies[i].view());
    if (backwards[i]) std::reverse(part.begin(), part.end());
    ids.insert(ids.end(), part.begin(), part.end());
  }
  if (static_cast<int64_t>(ids.size()) > limit) ids.resize(limit);
  return ids;
}

}  // namespace taskq::broker
