// RedisBroker: sharded queues (docs/architecture.md, "Sharded queues"). A queue's layout lives in
// its home shard's meta (shards, stags, sv); producers place each job on a shard by
// PlacementShard (common/shard_placement.h) and name the layout version they placed by, which
// every shard checks; reads by id and counts visit every shard, all in one round trip.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <numeric>
#include <thread>

#include "broker/redis_broker.h"
#include "broker/shard_tags.h"
#include "common/ids.h"
#include "common/shard_placement.h"
#include "common/text_list.h"

namespace taskq::broker {
namespace {

// A refused placement is tried again this many times, the layout read anew each time, with a
// growing pause: a change of layout in progress finishes within a few round trips.
constexpr int kPlacementAttempts = 7;

std::chrono::milliseconds PlacementPause(int attempt) {
  return std::chrono::milliseconds(std::min(5 << attempt, 200));
}

// The layout from the home meta's sv and stags (either nil when never sharded).
QueueLayout ParseLayout(const std::string& queue, ReplyView sv, ReplyView stags) {
  QueueLayout layout{{queue}, sv.is_nil() ? 0 : sv.AsInt()};
  if (!stags.is_nil()) {
    for (std::string_view tag : SplitList(stags.str(), ' ')) layout.tags.emplace_back(tag);
  }
  return layout;
}

}  // namespace

Status RedisBroker::LayoutRefusal(const Reply& reply) {
  if (reply.view().is_error() && reply.view().str().starts_with("LAYOUT ")) {
    return Unavailable(std::string(kLayoutChanged) + " (now version " +
                       std::string(reply.view().str().substr(7)) + ")");
  }
  return Status::Ok();
}

Result<QueueLayout> RedisBroker::Layout(const std::string& queue) {
  const QueueKeys& k = Keys(queue);
  auto reply = Run(k.slot(), Command{"HMGET", k.meta(), "sv", "stags"});
  if (!reply.ok()) return reply.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*reply, "layout"));
  QueueLayout layout = ParseLayout(queue, reply->view()[0], reply->view()[1]);
  layouts_[queue] = {layout, std::chrono::steady_clock::now()};
  return layout;
}

const QueueLayout& RedisBroker::PlacementLayout(const std::string& queue) {
  auto it = layouts_.find(queue);
  if (it == layouts_.end()) {
    it = layouts_.emplace(queue, KnownLayout{QueueLayout{{queue}, 0}, std::nullopt}).first;
  }
  return it->second.layout;
}

Result<QueueLayout> RedisBroker::LayoutForReads(const std::string& queue) {
  auto it = layouts_.find(queue);
  if (it != layouts_.end() && it->second.read_at &&
      std::chrono::steady_clock::now() < *it->second.read_at + kLayoutKept) {
    return it->second.layout;
  }
  return Layout(queue);
}

Status RedisBroker::RunScriptsAcross(std::span<const uint16_t> slots,
                                     std::span<const Command> commands,
                                     std::vector<Reply>* replies) {
  std::vector<Result<Reply>> each;
  RunScriptsAcrossEach(slots, commands, &each);
  return TakeAllReplies(each, replies);
}

void RedisBroker::RunScriptsAcrossEach(std::span<const uint16_t> slots,
                                       std::span<const Command> commands,
                                       std::vector<Result<Reply>>* replies) {
  RunCommandsAcrossEach(slots, commands, replies);
  std::vector<size_t> missing;
  for (size_t i = 0; i < replies->size(); ++i) {
    const Result<Reply>& reply = (*replies)[i];
    if (reply.ok() && reply->view().is_error() && reply->view().str().starts_with("NOSCRIPT")) {
      missing.push_back(i);
    }
  }
  if (missing.empty()) return;
  const Status loaded = LoadScripts();
  std::vector<Command> again;
  std::vector<uint16_t> again_slots;
  for (size_t i : missing) {
    again.push_back(commands[i]);
    again_slots.push_back(slots[i]);
  }
  std::vector<Result<Reply>> retried;
  if (loaded.ok()) RunCommandsAcrossEach(again_slots, again, &retried);
  for (size_t j = 0; j < missing.size(); ++j) {
    if (loaded.ok()) {
      (*replies)[missing[j]] = std::move(retried[j]);
    } else {
      (*replies)[missing[j]] = loaded;
    }
  }
}

Result<std::vector<EnqueueReply>> RedisBroker::EnqueuePlaced(const std::string& queue,
                                                             std::span<const NewJob> jobs,
                                                             std::vector<uint16_t>* written,
                                                             std::vector<Status>* failed_jobs) {
  if (jobs.empty()) return std::vector<EnqueueReply>();
  std::vector<EnqueueReply> out(jobs.size());
  std::vector<size_t> pending;  // indexes of the jobs not yet written; empty: all of them
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(PlacementPause(attempt));
    const QueueLayout& layout = PlacementLayout(queue);
    const int32_t shards = layout.shards();
    if (shards == 1) {
      // One shard: the jobs as one part, exactly as on a queue never sharded.
      std::vector<NewJob> rest;
      for (size_t i : pending) rest.push_back(jobs[i]);
      auto replies = EnqueueOnShard(layout.tags[0], pending.empty() ? jobs : rest, layout.version);
      if (replies.ok()) {
        if (written != nullptr) written->push_back(Keys(layout.tags[0]).slot());
        if (pending.empty()) return replies;
        for (size_t j = 0; j < pending.size(); ++j) out[pending[j]] = (*replies)[j];
        return out;
      }
      if (!replies.status().message().starts_with(kLayoutChanged) ||
          attempt + 1 == kPlacementAttempts) {
        if (failed_jobs == nullptr || pending.empty()) return replies.status();
        for (size_t i : pending) (*failed_jobs)[i] = replies.status();  // the rest are written
        return out;
      }
      auto read = Layout(queue);  // replaces the layout kept for placement
      if (!read.ok()) return read.status();
      continue;
    }
    // Several shards: each job to its shard, each shard's part one enqueue.lua call, all the
    // parts in one round trip (on a cluster, every master gets its parts at once).
    if (pending.empty()) {
      pending.resize(jobs.size());
      std::iota(pending.begin(), pending.end(), 0);
    }
    std::vector<std::vector<size_t>> parts(static_cast<size_t>(shards));
    for (size_t i : pending) {
      const NewJob& job = jobs[i];
      const PlacementKeys keys{job.group, job.unique ? std::string_view(job.unique->key) : "",
                               job.id};
      if (Status placeable = CheckShardedPlacement(keys); !placeable.ok()) {
        if (failed_jobs == nullptr) return placeable;
        (*failed_jobs)[i] = placeable;
        continue;
      }
      parts[static_cast<size_t>(PlacementShard(keys, shards))].push_back(i);
    }
    std::vector<Command> calls;
    std::vector<uint16_t> slots;
    std::vector<size_t> part_of_call;
    for (size_t s = 0; s < parts.size(); ++s) {
      if (parts[s].empty()) continue;
      std::vector<NewJob> part;
      part.reserve(parts[s].size());
      for (size_t i : parts[s]) part.push_back(jobs[i]);
      const QueueKeys& k = Keys(layout.tags[s]);
      calls.push_back(EnqueueCall(k, part, layout.version));
      slots.push_back(k.slot());
      part_of_call.push_back(s);
    }
    std::vector<Result<Reply>> replies;
    RunScriptsAcrossEach(slots, calls, &replies);
    std::vector<size_t> refused;
    Status failed;
    for (size_t c = 0; c < calls.size(); ++c) {
      const std::vector<size_t>& part = parts[part_of_call[c]];
      auto parsed = replies[c].ok() ? ParseEnqueueReply(*replies[c], part.size())
                                    : Result<std::vector<EnqueueReply>>(replies[c].status());
      if (parsed.ok()) {
        for (size_t j = 0; j < part.size(); ++j) out[part[j]] = (*parsed)[j];
        if (written != nullptr) written->push_back(slots[c]);
      } else if (parsed.status().message().starts_with(kLayoutChanged)) {
        refused.insert(refused.end(), part.begin(), part.end());
      } else if (failed_jobs != nullptr) {
        for (size_t i : part) (*failed_jobs)[i] = parsed.status();
      } else if (failed.ok()) {
        failed = parsed.status();
      }
    }
    // The other parts are written: a caller that retries the whole batch finds them (ids).
    if (!failed.ok()) return failed;
    if (refused.empty()) return out;
    if (attempt + 1 == kPlacementAttempts) {
      const Status gave_up =
          Unavailable(std::string(kLayoutChanged) + " while the jobs were placed; retry");
      if (failed_jobs == nullptr) return gave_up;
      for (size_t i : refused) (*failed_jobs)[i] = gave_up;
      return out;
    }
    pending = std::move(refused);
    auto read = Layout(queue);
    if (!read.ok()) return read.status();
  }
}

Result<QueueLayout> RedisBroker::SetShards(const std::string& queue, int32_t shards) {
  if (shards < 1 || shards > kMaxShards) {
    return InvalidArgument("shards", "must be from 1 to " + std::to_string(kMaxShards));
  }
  TASKQ_RETURN_IF_ERROR(RegisterQueue(queue));
  const QueueKeys& home = Keys(queue);
  auto read = Run(home.slot(), Command{"HMGET", home.meta(), "sv", "stags", "paused"});
  if (!read.ok()) return read.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*read, "layout"));
  const QueueLayout before = ParseLayout(queue, read->view()[0], read->view()[1]);
  const std::string paused = read->view()[2].str() == "1" ? "1" : "0";
  const std::string before_tags = JoinList(std::span(before.tags).subspan(1), " ");
  // Every call of one change names its token: undoing it touches only what it wrote.
  const std::string token = NewJobId();
  auto layout_call = [&](const std::string& tag, std::string_view mode, std::string_view role,
                         int64_t expected, int64_t version, int32_t n, const std::string& list) {
    ScriptCall call("shard_layout", ShardLayoutKeys(Keys(tag)));
    call.Arg(mode).Arg(expected).Arg(version).Arg(role).Arg(n).Arg(list).Arg(paused).Arg(token);
    return call.Take();
  };
  if (before.shards() == shards) return RepairLayout(before, before_tags, layout_call);

  auto tags = ChooseShardTags(queue, shards, cluster_ ? &cluster_->map() : nullptr, before.tags);
  if (!tags.ok()) return tags.status();
  QueueLayout after{std::move(*tags), before.version + 1};
  const std::string after_tags = JoinList(std::span(after.tags).subspan(1), " ");
  // Every shard of either layout but home first, in one round trip, then home: a producer that
  // reads the new layout at home finds every shard ready for it.
  struct Part {
    std::string tag;
    std::string role;
  };
  std::vector<Part> others;
  const size_t widest = std::max(before.tags.size(), after.tags.size());
  for (size_t i = 1; i < widest; ++i) {
    const bool in_before = i < before.tags.size(), in_after = i < after.tags.size();
    if (in_before && in_after && before.tags[i] != after.tags[i]) {
      return Internal("layout: shard " + std::to_string(i) + " would change its tag");
    }
    others.push_back({in_after ? after.tags[i] : before.tags[i], in_before && in_after ? "kept"
                                                                 : in_after            ? "new"
                                                                                       : "gone"});
  }
  std::vector<Command> calls;
  std::vector<uint16_t> slots;
  for (const Part& part : others) {
    calls.push_back(layout_call(part.tag, "change", part.role, before.version, after.version,
                                shards, after_tags));
    slots.push_back(Keys(part.tag).slot());
  }
  std::vector<Reply> replies;
  Status refused;
  if (!calls.empty()) refused = RunScriptsAcross(slots, calls, &replies);
  for (size_t i = 0; i < replies.size() && refused.ok(); ++i) {
    if (replies[i].view().is_error()) {
      refused = Status(StatusCode::kFailedPrecondition,
                       "shard " + std::to_string(i + 1) + " (" + others[i].tag +
                           "): " + std::string(replies[i].view().str()),
                       "shards");
    }
  }
  if (refused.ok()) {
    auto reply = RunScript(home.slot(), layout_call(queue, "change", "home", before.version,
                                                    after.version, shards, after_tags));
    if (reply.ok() && !reply->view().is_error()) {
      layouts_[queue] = {after, std::chrono::steady_clock::now()};
      // New shards took the pause state read at the start: a pause or resume since then is
      // applied to every shard of the new layout.
      auto now = Run(home.slot(), Command{"HGET", home.meta(), "paused"});
      if (now.ok() && (now->view().str() == "1" ? "1" : "0") != paused) {
        TASKQ_RETURN_IF_ERROR(SetPaused(queue, paused == "0").status());
      }
      return after;
    }
    refused = reply.ok()
                  ? Status(StatusCode::kFailedPrecondition,
                           "shard 0 (" + queue + "): " + std::string(reply->view().str()), "shards")
                  : reply.status();
  }
  // Refused somewhere (or the answers were lost): what this change wrote, and every shard it
  // found at the old version, get the old layout back at a version above any it wrote, so that
  // no producer keeps a layout some shard refuses. A shard another change wrote is left to it.
  calls.clear();
  slots.clear();
  for (const Part& part : others) {
    calls.push_back(layout_call(part.tag, "restore", part.role == "new" ? "gone" : "kept",
                                before.version, after.version + 1, before.shards(), before_tags));
    slots.push_back(Keys(part.tag).slot());
  }
  calls.push_back(layout_call(queue, "restore", "home", before.version, after.version + 1,
                              before.shards(), before_tags));
  slots.push_back(home.slot());
  ForgetLayout(queue);
  Status restored = RunScriptsAcross(slots, calls, &replies);
  if (!restored.ok()) {
    return Status(refused.code(),
                  refused.message() + "; putting the old layout back failed too (" +
                      restored.message() + "): run the change again",
                  "shards");
  }
  if (replies.back().view().is_error()) {
    return Status(StatusCode::kFailedPrecondition,
                  refused.message() + "; another change of this queue's shards ran meanwhile",
                  "shards");
  }
  return refused;
}

Result<QueueLayout> RedisBroker::RepairLayout(const QueueLayout& layout,
                                              const std::string& layout_tags,
                                              const LayoutCallMaker& layout_call) {
  // A change that died between its round trips leaves some shards at a version home does not
  // have, which refuses every producer there: running the same layout again puts every shard
  // at one version above all of them.
  std::vector<Command> reads;
  std::vector<uint16_t> slots;
  for (const std::string& tag : layout.tags) {
    reads.push_back({"HGET", Keys(tag).meta(), "sv"});
    slots.push_back(Keys(tag).slot());
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommandsAcross(slots, reads, &replies));
  int64_t highest = layout.version;
  bool agree = true;
  for (const Reply& reply : replies) {
    TASKQ_RETURN_IF_ERROR(ReplyError(reply, "layout"));
    const int64_t sv = reply.view().is_nil() ? 0 : reply.view().AsInt();
    agree = agree && sv == layout.version;
    highest = std::max(highest, sv);
  }
  if (agree) return layout;
  QueueLayout repaired{layout.tags, highest + 1};
  std::vector<Command> calls;
  for (size_t i = 0; i < layout.tags.size(); ++i) {
    calls.push_back(layout_call(layout.tags[i], "repair", i == 0 ? "home" : "kept", layout.version,
                                repaired.version, layout.shards(), layout_tags));
  }
  // Home last, as in a change.
  std::rotate(calls.begin(), calls.begin() + 1, calls.end());
  std::rotate(slots.begin(), slots.begin() + 1, slots.end());
  TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  for (const Reply& reply : replies) {
    if (reply.view().is_error()) {
      return Status(StatusCode::kFailedPrecondition,
                    "repairing the layout: " + std::string(reply.view().str()) +
                        ": another change of this queue's shards ran meanwhile",
                    "shards");
    }
  }
  ForgetLayout(layout.tags[0]);
  return repaired;
}

Result<std::vector<int32_t>> RedisBroker::ShardsOfJobs(const QueueLayout& layout,
                                                       std::span<const std::string> ids) {
  std::vector<int32_t> out(ids.size(), -1);
  if (layout.shards() == 1) {
    std::fill(out.begin(), out.end(), 0);
    return out;
  }
  // One HMGET of the ids' bodies per shard, all in one round trip: a job lives on one shard.
  std::vector<Command> reads;
  std::vector<uint16_t> slots;
  for (const std::string& tag : layout.tags) {
    Command read{"HMGET", Keys(tag).jobs()};
    for (const std::string& id : ids) read.Add(id);
    reads.push_back(std::move(read));
    slots.push_back(Keys(tag).slot());
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunCommandsAcross(slots, reads, &replies));
  for (size_t s = 0; s < replies.size(); ++s) {
    TASKQ_RETURN_IF_ERROR(ReplyError(replies[s], "locate"));
    const ReplyView bodies = replies[s].view();
    for (size_t i = 0; i < ids.size() && i < bodies.size(); ++i) {
      if (!bodies[i].is_nil() && out[i] < 0) out[i] = static_cast<int32_t>(s);
    }
  }
  return out;
}

Result<std::string> RedisBroker::ShardOfJob(const std::string& queue, const std::string& id) {
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  if (layout->shards() == 1) return queue;
  auto shards = ShardsOfJobs(*layout, std::span<const std::string>(&id, 1));
  if (!shards.ok()) return shards.status();
  // A job on no shard: the home shard's script answers "not found".
  return layout->tags[static_cast<size_t>(std::max((*shards)[0], 0))];
}

Result<std::vector<JobEvent>> RedisBroker::ReadEvents(std::span<EventCursor> cursors,
                                                      std::chrono::milliseconds block,
                                                      int32_t max_events) {
  // A sharded queue's cursor is one stream position per shard, "id0,id1,...": its cursor is
  // read as one per shard, and put back together after. A single position (a cursor made before
  // the queue was sharded, or "" and "0-0") is shard 0's; the other shards start at their
  // beginning ("0-0"), or from now with "".
  std::vector<EventCursor> shard_cursors;
  std::vector<size_t> owner;
  std::vector<bool> sharded(cursors.size(), false);
  for (size_t i = 0; i < cursors.size(); ++i) {
    auto layout = LayoutForReads(cursors[i].queue);
    if (!layout.ok()) return layout.status();
    if (layout->shards() == 1 && cursors[i].last_id.find(',') == std::string::npos) {
      shard_cursors.push_back(cursors[i]);
      owner.push_back(i);
      continue;
    }
    sharded[i] = true;
    const std::vector<std::string_view> ids = SplitList(cursors[i].last_id, ',');
    for (size_t s = 0; s < layout->tags.size(); ++s) {
      std::string id = s < ids.size() ? std::string(ids[s]) : "";
      if (s >= ids.size() && !cursors[i].last_id.empty()) id = "0-0";
      shard_cursors.push_back({layout->tags[s], std::move(id)});
      owner.push_back(i);
    }
  }
  auto events = ReadShardEvents(shard_cursors, block, max_events);
  if (!events.ok()) return events.status();
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (sharded[i]) cursors[i].last_id.clear();
  }
  for (size_t j = 0; j < shard_cursors.size(); ++j) {
    EventCursor& cursor = cursors[owner[j]];
    if (!sharded[owner[j]]) {
      cursor.last_id = shard_cursors[j].last_id;
    } else {
      if (j > 0 && owner[j - 1] == owner[j]) cursor.last_id += ',';
      cursor.last_id += shard_cursors[j].last_id;
    }
  }
  for (JobEvent& event : *events) event.queue = std::string(QueueOfTag(event.queue));
  return events;
}

Result<JobListing> RedisBroker::ListShardedJobs(const std::string& queue, const QueueLayout& layout,
                                                JobState state, const JobCursor& from,
                                                int64_t limit, ListOrder order) {
  const bool reversed = order == ListOrder::kReversed;
  std::vector<std::pair<size_t, std::string>> found;  // shard, id
  JobListing listing;
  if (state == JobState::kWaiting) {
    // Shard by shard, each in its run order (reversed: the last shard first, each backwards);
    // the offset counts through them laid end to end.
    if (from.keyed()) {
      return InvalidArgument("cursor",
                             "belongs to another state; the waiting state pages by offset");
    }
    std::vector<Command> sizes;
    std::vector<uint16_t> slots;
    for (const std::string& tag : layout.tags) {
      const QueueKeys& k = Keys(tag);
      sizes.push_back({"LLEN", k.wait()});
      sizes.push_back({"ZCARD", k.prioritized()});
      sizes.push_back({"HGET", k.meta(), "gwaiting"});
      slots.insert(slots.end(), 3, k.slot());
    }
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(RunCommandsAcross(slots, sizes, &replies));
    for (const Reply& reply : replies) TASKQ_RETURN_IF_ERROR(ReplyError(reply, "list"));
    int64_t skip = from.offset;
    for (size_t n = 0; n < layout.tags.size() && static_cast<int64_t>(found.size()) < limit; ++n) {
      const size_t s = reversed ? layout.tags.size() - 1 - n : n;
      const int64_t size = replies[3 * s].view().AsInt() + replies[3 * s + 1].view().AsInt() +
                           replies[3 * s + 2].view().AsInt();
      if (skip >= size) {
        skip -= size;
        continue;
      }
      auto ids = WaitingIds(Keys(layout.tags[s]), skip, limit - static_cast<int64_t>(found.size()),
                            reversed);
      if (!ids.ok()) return ids.status();
      for (std::string& id : *ids) found.emplace_back(s, std::move(id));
      skip = 0;
    }
    for (size_t i = 0; i < found.size(); ++i) {
      listing.after.push_back(JobCursor::AtOffset(from.offset + static_cast<int64_t>(i) + 1));
    }
  } else {
    // Every shard's page from the cursor, merged in the state's order (score, then id, as Redis
    // orders a sorted set): the cursor after a job is a place in every shard alike. An offset
    // into a state reads that far into every shard, so it is bounded; cursors are not.
    if (!from.keyed() && from.offset + limit > 1000) {
      return InvalidArgument("cursor",
                             "a sharded queue pages this state by the cursors of its pages beyond "
                             "its first 1000 jobs");
    }
    const bool descending = NewestFirst(state) != reversed;
    struct Entry {
      double score;
      size_t shard;
      std::string id;
      JobCursor after;
    };
    std::vector<Entry> entries;
    const JobCursor start = from.keyed() ? from : JobCursor::AtOffset(0);
    const int64_t window = from.keyed() ? limit : from.offset + limit;
    for (size_t s = 0; s < layout.tags.size(); ++s) {
      std::vector<std::string> ids;
      std::vector<JobCursor> after;
      TASKQ_RETURN_IF_ERROR(
          SortedStateIds(Keys(layout.tags[s]), state, start, window, reversed, &ids, &after));
      for (size_t i = 0; i < ids.size(); ++i) {
        const double score = std::strtod(after[i].after_score.c_str(), nullptr);
        entries.push_back({score, s, std::move(ids[i]), std::move(after[i])});
      }
    }
    std::sort(entries.begin(), entries.end(), [descending](const Entry& a, const Entry& b) {
      if (a.score != b.score) return descending ? a.score > b.score : a.score < b.score;
      return descending ? a.id > b.id : a.id < b.id;
    });
    const size_t first = from.keyed() ? 0 : static_cast<size_t>(from.offset);
    for (size_t i = first; i < entries.size() && found.size() < static_cast<size_t>(limit); ++i) {
      found.emplace_back(entries[i].shard, entries[i].id);
      listing.after.push_back(std::move(entries[i].after));
    }
  }
  std::vector<Command> reads;
  std::vector<uint16_t> slots;
  for (const auto& [shard, id] : found) {
    reads.push_back(GetJobCommand(Keys(layout.tags[shard]), id));
    slots.push_back(Keys(layout.tags[shard]).slot());
  }
  std::vector<Reply> replies;
  if (!reads.empty()) TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, reads, &replies));
  for (size_t i = 0; i < replies.size(); ++i) {
    auto job = ParseJob(queue, found[i].second, replies[i]);
    if (!job.ok()) return job.status();
    listing.jobs.push_back(std::move(*job));
  }
  return listing;
}

Result<Broker::HistoryRecordResult> RedisBroker::RecordHistory(const std::string& queue,
                                                               std::chrono::milliseconds bucket,
                                                               int32_t keep) {
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  // Each shard samples its own counters into its own stream, by its own master's clock.
  HistoryRecordResult out{false, bucket};
  for (const std::string& tag : layout->tags) {
    auto recorded = RecordShardHistory(tag, bucket, keep);
    if (!recorded.ok()) return recorded.status();
    out.written = out.written || recorded->written;
    out.until_next = std::min(out.until_next, recorded->until_next);
  }
  return out;
}

Result<Broker::HistorySamples> RedisBroker::ReadHistory(const std::string& queue, int32_t max) {
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  auto out = ReadShardHistory(queue, max);
  if (!out.ok() || layout->shards() == 1) return out;
  // The queue's sample of a bucket is the sum of its shards' samples of that bucket; a bucket
  // some shard has no sample of is left out (a partial sum would read as a drop).
  std::map<int64_t, std::pair<QueueHistorySample, size_t>> buckets;
  for (const QueueHistorySample& s : out->samples) buckets[s.start_ms] = {s, 1};
  for (size_t i = 1; i < layout->tags.size(); ++i) {
    auto shard = ReadShardHistory(layout->tags[i], max);
    if (!shard.ok()) return shard.status();
    for (const QueueHistorySample& s : shard->samples) {
      auto it = buckets.find(s.start_ms);
      if (it == buckets.end()) continue;
      QueueHistorySample& sum = it->second.first;
      sum.enqueued_total += s.enqueued_total;
      sum.completed_total += s.completed_total;
      sum.failed_total += s.failed_total;
      sum.dead_total += s.dead_total;
      sum.waiting += s.waiting;
      ++it->second.second;
    }
  }
  out->samples.clear();
  for (const auto& [start, sample] : buckets) {
    if (sample.second == layout->tags.size()) out->samples.push_back(sample.first);
  }
  return out;
}

Result<std::optional<Job>> RedisBroker::GetJob(const std::string& queue, const std::string& id) {
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  if (layout->shards() == 1) {
    auto reply = RunScript(Keys(queue).slot(), GetJobCommand(Keys(queue), id));
    if (!reply.ok()) return reply.status();
    return ParseJob(queue, id, *reply);
  }
  // An id names no shard: every shard is asked, in one round trip, and the one holding it answers.
  std::vector<Command> calls;
  std::vector<uint16_t> slots;
  for (const std::string& tag : layout->tags) {
    calls.push_back(GetJobCommand(Keys(tag), id));
    slots.push_back(Keys(tag).slot());
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  for (const Reply& reply : replies) {
    auto job = ParseJob(queue, id, reply);
    if (!job.ok() || *job) return job;
  }
  return std::optional<Job>();
}

Result<QueueCounts> RedisBroker::Counts(const std::string& queue) {
  auto layout = LayoutForReads(queue);
  if (!layout.ok()) return layout.status();
  std::vector<int64_t> versions;
  auto shards = CountShards(layout->tags, &versions);
  if (!shards.ok()) return shards.status();
  if (versions.front() != layout->version) {
    // The layout kept for reads is older than the home shard's (changed through another
    // connection): count again by the new one, so that counts never leave shards out.
    layout = Layout(queue);
    if (!layout.ok()) return layout.status();
    shards = CountShards(layout->tags);
    if (!shards.ok()) return shards.status();
  }
  QueueCounts c = (*shards)[0];
  c.shards = layout->shards();
  for (size_t i = 1; i < shards->size(); ++i) {
    const QueueCounts& s = (*shards)[i];
    c.waiting += s.waiting;
    c.delayed += s.delayed;
    c.active += s.active;
    c.completed += s.completed;
    c.retrying += s.retrying;
    c.dead += s.dead;
    c.held += s.held;
    c.completed_total += s.completed_total;
    c.failed_total += s.failed_total;
    c.stalled_total += s.stalled_total;
    c.enqueued_total += s.enqueued_total;
    c.retried_total += s.retried_total;
    c.dead_total += s.dead_total;
    c.callbacks_pending += s.callbacks_pending;
    c.overrunning += s.overrunning;
    c.overran_total += s.overran_total;
    // Ages are taken against each shard's own clock: the oldest is the one waited longest.
    if (s.oldest_waiting_age_ms() > c.oldest_waiting_age_ms()) {
      c.oldest_waiting_created_ms = c.now_ms - s.oldest_waiting_age_ms();
    }
  }
  return c;
}

Status RedisBroker::SetShardedLimits(const QueueLayout& layout, const QueueLimits& limits) {
  // Each shard enforces its share in its own claims: the shares of a limit add up to it, so the
  // queue as a whole never exceeds it. A limit below the number of shards would leave some
  // shard a share of 0, whose jobs could never start.
  const int64_t n = layout.shards();
  auto at_least_n = [n](int64_t value, const char* field) {
    if (value == 0 || value >= n) return Status::Ok();
    return InvalidArgument(field, "a queue of " + std::to_string(n) +
                                      " shards takes 0 (none) or at least " + std::to_string(n) +
                                      ": each shard enforces a share of it");
  };
  TASKQ_RETURN_IF_ERROR(at_least_n(limits.rate.max, "rate.max"));
  TASKQ_RETURN_IF_ERROR(at_least_n(limits.concurrency, "concurrency"));
  TASKQ_RETURN_IF_ERROR(at_least_n(limits.max_length, "max_length"));
  if (!limits.group_field.empty()) {
    return InvalidArgument("group.field",
                           "a sharded queue places a job by the group given when it is enqueued; "
                           "it takes no group field");
  }
  // A setter is a mover of the concurrency shares (share_move.lua): a newer balance or setter
  // that read the shards first refuses its writes, and it tries again from a new read.
  for (int attempt = 0; attempt < kPlacementAttempts; ++attempt) {
    // A random part of the pause: two setters that fence each other fall out of step.
    if (attempt > 0) {
      const auto pause = PlacementPause(attempt);
      std::this_thread::sleep_for(pause + pause * (PlacementHash(NewJobId()) % 100) / 100);
    }
    auto written = WriteShardedLimits(layout, limits);
    if (!written.ok() || *written) return written.status();
  }
  return Unavailable(
      "the queue's concurrency shares were moved by others throughout: set the "
      "limits again");
}

Result<QueueShards> RedisBroker::CountsByShard(const std::string& queue) {
  auto layout = Layout(queue);
  if (!layout.ok()) return layout.status();
  auto counts = CountShards(layout->tags);
  if (!counts.ok()) return counts.status();
  QueueShards out;
  out.version = layout->version;
  for (size_t i = 0; i < layout->tags.size(); ++i) {
    // The map as it is after the counts: a shard whose slot moved answered them with MOVED,
    // which reads the map again (at most every 100 ms).
    const ClusterNode* master =
        cluster_ ? cluster_->map().MasterOf(Keys(layout->tags[i]).slot()) : nullptr;
    out.shards.push_back({static_cast<int32_t>(i), layout->tags[i], std::move((*counts)[i]),
                          master ? master->address() : ""});
  }
  return out;
}

Result<bool> RedisBroker::SetPaused(const std::string& queue, bool paused) {
  auto layout = Layout(queue);
  if (!layout.ok()) return layout.status();
  // Every shard in one round trip (claim.lua reads each shard's own flag); the answer is the
  // home shard's, whose flag the counts show.
  std::vector<Command> calls;
  std::vector<uint16_t> slots;
  for (const std::string& tag : layout->tags) {
    const QueueKeys& k = Keys(tag);
    ScriptCall call("pause", PauseKeys(k));
    call.Arg(k.base()).Arg(paused ? "1" : "0");
    calls.push_back(call.Take());
    slots.push_back(k.slot());
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  for (const Reply& reply : replies) TASKQ_RETURN_IF_ERROR(ReplyError(reply, "pause"));
  return replies.front().view().AsInt() == 1;
}

}  // namespace taskq::broker
