// RedisBroker::BalanceShares: moves a sharded queue's concurrency between its shards toward the
// work each has (share_move.lua, whose header says why the queue never exceeds its limit and why
// concurrent balances are safe). Three round trips across the shards after the token: read, give,
// take; a give or take a shard refuses (a newer balance, or limits set since) moves nothing there,
// and what a cut-short balance freed is handed out by the next one.
#include <algorithm>
#include <numeric>
#include <optional>

#include "broker/redis_broker.h"
#include "common/ids.h"
#include "common/share_targets.h"

namespace taskq::broker {
int64_t RedisBroker::Occupied(const std::vector<int64_t>& shares,
                              const std::vector<ShardShare>& shards) {
  int64_t occupied = 0;
  for (size_t i = 0; i < shares.size(); ++i) occupied += std::max(shares[i], shards[i].active);
  return occupied;
}

Command RedisBroker::ShareMoveCall(const std::string& tag, int64_t layout_version,
                                   std::string_view mode, int64_t token,
                                   std::string_view generation, int64_t amount) {
  const QueueKeys& k = Keys(tag);
  ScriptCall call("share_move", ShareMoveKeys(k));
  call.Arg(k.base()).Arg(mode).Arg(token).Arg(generation).Arg(amount).Arg(layout_version);
  return call.Take();
}

Result<int64_t> RedisBroker::TakeMoverToken(const QueueLayout& layout) {
  const QueueKeys& home = Keys(layout.tags[0]);
  auto counter = Run(home.slot(), Command{"HINCRBY", home.meta(), "cbn", "1"});
  if (!counter.ok()) return counter.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*counter, "balance"));
  return static_cast<int64_t>(counter->view().integer());
}

Result<std::optional<std::vector<RedisBroker::ShardShare>>> RedisBroker::ReadShares(
    const QueueLayout& layout, int64_t* token) {
  auto taken = TakeMoverToken(layout);
  if (!taken.ok()) return taken.status();
  *token = *taken;
  std::vector<uint16_t> slots;
  std::vector<Command> calls;
  for (const std::string& tag : layout.tags) {
    slots.push_back(Keys(tag).slot());
    calls.push_back(ShareMoveCall(tag, layout.version, "read", *token, "", 0));
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  std::vector<ShardShare> shards;
  for (const Reply& reply : replies) {
    ReplyView v = reply.view();
    // A newer mover read first: nothing to do now.
    if (v.is_error() && v.str().starts_with("FENCED")) {
      return std::optional<std::vector<ShardShare>>();
    }
    if (v.is_error() && v.str().starts_with("LAYOUT")) {
      return Unavailable("the queue's shards changed since they were read: read them again");
    }
    TASKQ_RETURN_IF_ERROR(ReplyError(reply, "share_move"));
    if (v.size() != 5) return Internal("share_move: bad reply");
    shards.push_back(
        {v[0].AsInt(), v[1].AsInt(), v[2].AsInt(), std::string(v[3].str()), v[4].AsInt()});
  }
  return std::optional<std::vector<ShardShare>>(std::move(shards));
}

bool RedisBroker::SharesOfOneSetting(const std::vector<ShardShare>& shards) {
  const ShardShare& first = shards.front();
  if (first.total <= 0 || first.generation.empty()) return false;
  for (const ShardShare& s : shards) {
    if (s.share <= 0 || s.total != first.total || s.generation != first.generation) return false;
  }
  return true;
}

std::vector<int64_t> RedisBroker::ConcurrencyTargets(const std::vector<ShardShare>& shards,
                                                     int64_t concurrency) {
  // The same concurrency again keeps the shares as balanced (a shard running more than an even
  // split would give it would otherwise let the others start more, and the queue exceed it).
  std::vector<int64_t> out;
  int64_t sum = 0;
  for (const ShardShare& s : shards) sum += s.share;
  if (SharesOfOneSetting(shards) && shards.front().total == concurrency && sum == concurrency) {
    for (const ShardShare& s : shards) out.push_back(s.share);
    return out;
  }
  // A new concurrency: no share below what runs on its shard (the other shards could otherwise
  // start the difference and the queue exceed the limit), nor, where the limit leaves room for
  // it, below the share it has (a claim may be filling it as this runs). What is left follows the
  // work. A limit below what runs takes what it can: each shard starts nothing beyond its share
  // until its running jobs fit in it.
  std::vector<int64_t> demand, floors, kept;
  int64_t running = 0, keeping = 0;
  for (const ShardShare& s : shards) {
    demand.push_back(s.active + s.waiting);
    floors.push_back(std::max<int64_t>(s.active, 1));
    kept.push_back(std::max(floors.back(), s.share));
    running += floors.back();
    keeping += kept.back();
  }
  if (SharesOfOneSetting(shards) && sum <= shards.front().total && keeping <= concurrency) {
    return ShareTargets(concurrency, demand, kept);
  }
  if (running > concurrency) return ShareTargets(concurrency, demand);
  return ShareTargets(concurrency, demand, floors);
}

Result<int64_t> RedisBroker::BalanceShares(const QueueLayout& layout) {
  if (layout.shards() < 2) return int64_t{0};
  int64_t token = 0;
  auto read = ReadShares(layout, &token);
  if (!read.ok()) return read.status();
  if (!read->has_value()) return int64_t{0};
  const std::vector<ShardShare>& shards = **read;
  // Only shares of one setting of the limits move: with no concurrency limit there is nothing
  // to balance, and shards holding different settings are a setting of the limits under way
  // or cut short (its setter died, or failed midway), which only setting them again mends.
  if (shards.front().total <= 0 && shards.back().total <= 0) return int64_t{0};
  if (!SharesOfOneSetting(shards)) {
    return Status(StatusCode::kFailedPrecondition,
                  "the shards hold concurrency shares of different settings of the limits (a "
                  "setting under way, or cut short): if this lasts, set the limits again",
                  "limits");
  }
  const ShardShare& first = shards.front();
  std::vector<int64_t> demand;
  for (const ShardShare& s : shards) demand.push_back(s.active + s.waiting);
  const std::vector<int64_t> targets = ShareTargets(first.total, demand);

  // Lower the shares above their targets (never below what runs: the script's floor).
  std::vector<uint16_t> slots;
  std::vector<Command> calls;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].share <= targets[i]) continue;
    slots.push_back(Keys(layout.tags[i]).slot());
    calls.push_back(ShareMoveCall(layout.tags[i], layout.version, "give", token,
                                  shards[i].generation, shards[i].share - targets[i]));
  }
  std::vector<int64_t> after(shards.size());
  for (size_t i = 0; i < shards.size(); ++i) after[i] = shards[i].share;
  if (!calls.empty()) {
    std::vector<Result<Reply>> given;
    RunScriptsAcrossEach(slots, calls, &given);
    size_t c = 0;
    for (size_t i = 0; i < shards.size(); ++i) {
      if (shards[i].share <= targets[i]) continue;
      const Result<Reply>& reply = given[c++];
      if (reply.ok() && reply->view().is_integer()) after[i] -= reply->view().integer();
    }
  }
  return RaiseShares(layout, token, first.generation,
                     RaisesWithin(first.total, targets, after, shards, demand));
}

std::vector<int64_t> RedisBroker::RaisesWithin(int64_t total, const std::vector<int64_t>& targets,
                                               const std::vector<int64_t>& shares,
                                               const std::vector<ShardShare>& shards,
                                               const std::vector<int64_t>& demand) {
  // Two bounds. The shares add up to at most the limit: a shard that runs beyond its share
  // (after a lowered limit) may start jobs again up to its share once its own end. And the
  // slots held, each shard's share or what it runs, whichever is more, stay within it too. The
  // room is what a balance freed and what an earlier one freed and never handed out.
  int64_t shares_left = total, held_left = total - Occupied(shares, shards);
  for (int64_t share : shares) shares_left -= share;
  std::vector<int64_t> raise(shares.size(), 0);
  // First the part of each raise that only covers jobs its shard already runs: no slot held.
  for (size_t i = 0; i < shares.size(); ++i) {
    const int64_t want = std::max<int64_t>(targets[i] - shares[i], 0);
    raise[i] = std::max<int64_t>(0, std::min({want, shards[i].active - shares[i], shares_left}));
    shares_left -= raise[i];
  }
  // Then the rest, the furthest below its target first, while both bounds leave room; what is
  // left after every target is met goes to the shard with the most work.
  std::vector<size_t> order(shares.size());
  std::iota(order.begin(), order.end(), 0);
  auto short_of = [&](size_t i) { return targets[i] - shares[i] - raise[i]; };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return short_of(a) > short_of(b); });
  for (size_t i : order) {
    const int64_t more = std::max<int64_t>(0, std::min({short_of(i), shares_left, held_left}));
    raise[i] += more;
    shares_left -= more;
    held_left -= more;
  }
  const int64_t spare = std::min(shares_left, held_left);
  if (spare > 0) raise[std::max_element(demand.begin(), demand.end()) - demand.begin()] += spare;
  return raise;
}

int64_t RedisBroker::RaiseShares(const QueueLayout& layout, int64_t token,
                                 const std::string& generation, const std::vector<int64_t>& raise) {
  std::vector<uint16_t> slots;
  std::vector<Command> calls;
  for (size_t i = 0; i < raise.size(); ++i) {
    if (raise[i] <= 0) continue;
    slots.push_back(Keys(layout.tags[i]).slot());
    calls.push_back(
        ShareMoveCall(layout.tags[i], layout.version, "take", token, generation, raise[i]));
  }
  if (calls.empty()) return 0;
  std::vector<Result<Reply>> taken;
  RunScriptsAcrossEach(slots, calls, &taken);
  int64_t moved = 0;
  size_t c = 0;
  for (size_t i = 0; i < raise.size(); ++i) {
    if (raise[i] <= 0) continue;
    if (taken[c].ok() && taken[c]->view().is_integer()) moved += raise[i];
    ++c;
  }
  return moved;
}

Result<bool> RedisBroker::WriteShardedLimits(const QueueLayout& layout, const QueueLimits& limits) {
  // Concurrency: lower every share to its target at most (queue_limits.lua keeps the lesser),
  // then raise those below it (share_move.lua take), so that the shares add up to neither more
  // than the old limit nor more than the new one at any moment; a raise cut short is handed out
  // by the next balance.
  const auto n = static_cast<int64_t>(layout.shards());
  std::vector<int64_t> targets(static_cast<size_t>(n), 0);
  int64_t token = 0;
  if (limits.concurrency > 0) {
    auto read = ReadShares(layout, &token);
    if (!read.ok()) return read.status();
    if (!read->has_value()) return false;
    targets = ConcurrencyTargets(**read, limits.concurrency);
  } else {
    auto taken = TakeMoverToken(layout);
    if (!taken.ok()) return taken.status();
    token = *taken;
  }
  // Rates and maximum lengths: even shares, the remainder to the first shards.
  auto even = [n](int64_t value, int64_t i) { return value / n + (i < value % n ? 1 : 0); };
  const ShareOf of{layout.version, token, limits.concurrency, NewJobId()};
  std::vector<Command> calls;
  std::vector<uint16_t> slots;
  for (int64_t i = 0; i < n; ++i) {
    QueueLimits part = limits;
    part.rate.max = even(limits.rate.max, i);
    part.concurrency = static_cast<int32_t>(targets[static_cast<size_t>(i)]);
    part.max_length = even(limits.max_length, i);
    const QueueKeys& k = Keys(layout.tags[static_cast<size_t>(i)]);
    calls.push_back(QueueLimitsCall(k, part, &of));
    slots.push_back(k.slot());
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  std::vector<ShardShare> written(static_cast<size_t>(n));  // each shard's share and jobs active
  bool fenced = false;
  for (size_t i = 0; i < replies.size(); ++i) {
    const ReplyView v = replies[i].view();
    // The shards changed since the layout was read: the shares were made for others.
    if (v.is_error() && v.str().starts_with("LAYOUT ")) {
      return Unavailable("the queue's shards changed while its limits were set: set them again");
    }
    if (v.is_error() && v.str().starts_with("FENCED ")) {
      fenced = true;
      continue;
    }
    TASKQ_RETURN_IF_ERROR(ReplyError(replies[i], "queue_limits"));
    if (v.size() != 2) return Internal("queue_limits: bad reply");
    written[i].share = v[0].AsInt();
    written[i].active = v[1].AsInt();
  }
  if (fenced) return false;  // another mover read first: read again, and write a new generation
  if (limits.concurrency <= 0) return true;
  // Raise the shares below their aims, by no more than the limit leaves once every shard holds
  // its share or what it runs (jobs a shard started before its share was lowered).
  std::vector<int64_t> shares, demand;
  for (const ShardShare& w : written) shares.push_back(w.share);
  for (size_t i = 0; i < written.size(); ++i) demand.push_back(targets[i]);
  const std::vector<int64_t> raise =
      RaisesWithin(limits.concurrency, targets, shares, written, demand);
  RaiseShares(layout, token, of.generation, raise);
  return true;
}

}  // namespace taskq::broker
