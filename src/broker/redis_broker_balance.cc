// RedisBroker::BalanceShares: moves a sharded queue's concurrency between its shards toward the
// work each has (share_move.lua, whose header says why the queue never exceeds its limit and why
// concurrent balances are safe). Three round trips across the shards after the token: read, give,
// take; a give or take a shard refuses (a newer balance, or limits set since) moves nothing there,
// and what a cut-short balance freed is handed out by the next one.
#include <algorithm>
#include <numeric>
#include <optional>

#include "broker/redis_broker.h"
#include "common/share_targets.h"

namespace taskq::broker {

Command RedisBroker::ShareMoveCall(const std::string& tag, std::string_view mode, int64_t token,
                                   std::string_view generation, int64_t amount) {
  const QueueKeys& k = Keys(tag);
  ScriptCall call("share_move", ShareMoveKeys(k));
  call.Arg(k.base()).Arg(mode).Arg(token).Arg(generation).Arg(amount);
  return call.Take();
}

Result<std::optional<std::vector<RedisBroker::ShardShare>>> RedisBroker::ReadShares(
    const QueueLayout& layout, int64_t* token) {
  const QueueKeys& home = Keys(layout.tags[0]);
  auto counter = Run(home.slot(), Command{"HINCRBY", home.meta(), "cbn", "1"});
  if (!counter.ok()) return counter.status();
  TASKQ_RETURN_IF_ERROR(ReplyError(*counter, "balance"));
  *token = counter->view().integer();
  std::vector<uint16_t> slots;
  std::vector<Command> calls;
  for (const std::string& tag : layout.tags) {
    slots.push_back(Keys(tag).slot());
    calls.push_back(ShareMoveCall(tag, "read", *token, "", 0));
  }
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(RunScriptsAcross(slots, calls, &replies));
  std::vector<ShardShare> shards;
  for (const Reply& reply : replies) {
    ReplyView v = reply.view();
    if (v.is_error() && v.str().starts_with("FENCED")) {
      return std::optional<std::vector<ShardShare>>();  // a newer balance runs
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
  int64_t sum = 0;
  for (const ShardShare& s : shards) {
    if (s.share <= 0 || s.total != first.total || s.generation != first.generation) return false;
    sum += s.share;
  }
  return sum <= first.total;
}

Result<std::vector<int64_t>> RedisBroker::ConcurrencyShares(const QueueLayout& layout,
                                                            int64_t concurrency) {
  int64_t token = 0;
  auto read = ReadShares(layout, &token);
  if (!read.ok()) return read.status();
  const std::vector<int64_t> idle(layout.tags.size(), 0);
  if (!read->has_value()) return ShareTargets(concurrency, idle);
  const std::vector<ShardShare>& shards = **read;
  // The same concurrency again keeps the shares as balanced (a shard running more than an even
  // split would give it would otherwise let the others start more, and the queue exceed it).
  std::vector<int64_t> out;
  if (SharesOfOneSetting(shards) && shards.front().total == concurrency) {
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
  if (SharesOfOneSetting(shards) && keeping <= concurrency) {
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
  // Only shares of one setting of the limits move: while limits are being set, or with no
  // concurrency limit, there is nothing to balance.
  if (!SharesOfOneSetting(shards)) return int64_t{0};
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
    calls.push_back(ShareMoveCall(layout.tags[i], "give", token, shards[i].generation,
                                  shards[i].share - targets[i]));
  }
  int64_t freed = 0;
  if (!calls.empty()) {
    std::vector<Result<Reply>> given;
    RunScriptsAcrossEach(slots, calls, &given);
    for (const Result<Reply>& reply : given) {
      if (reply.ok() && reply->view().is_integer()) freed += reply->view().integer();
    }
  }
  int64_t shares = 0;
  for (const ShardShare& s : shards) shares += s.share;
  // What an earlier balance freed and never handed out (it was cut short) goes out too.
  const int64_t budget = freed + std::max<int64_t>(first.total - shares, 0);
  if (budget == 0) return int64_t{0};

  // Raise the shares below their targets, the furthest below first; what is left after every
  // target is met goes to the shard with the most work.
  std::vector<int64_t> raise(shards.size(), 0);
  std::vector<size_t> order(shards.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return targets[a] - shards[a].share > targets[b] - shards[b].share;
  });
  int64_t left = budget;
  for (size_t i : order) {
    const int64_t want = std::min(std::max<int64_t>(targets[i] - shards[i].share, 0), left);
    raise[i] += want;
    left -= want;
  }
  if (left > 0) raise[std::max_element(demand.begin(), demand.end()) - demand.begin()] += left;
  slots.clear();
  calls.clear();
  for (size_t i = 0; i < shards.size(); ++i) {
    if (raise[i] == 0) continue;
    slots.push_back(Keys(layout.tags[i]).slot());
    calls.push_back(ShareMoveCall(layout.tags[i], "take", token, shards[i].generation, raise[i]));
  }
  std::vector<Result<Reply>> taken;
  RunScriptsAcrossEach(slots, calls, &taken);
  int64_t moved = 0;
  size_t c = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (raise[i] == 0) continue;
    if (taken[c].ok() && taken[c]->view().is_integer()) moved += raise[i];
    ++c;
  }
  return moved;
}

}  // namespace taskq::broker
