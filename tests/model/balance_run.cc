#include "balance_run.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>

#include "broker/keys.h"
#include "broker/script_keys.h"
#include "broker/scripts.h"
#include "common/job_codec.h"
#include "common/shard_placement.h"
#include "common/share_targets.h"

namespace taskq::model {
namespace {

constexpr auto kLease = std::chrono::seconds(60);  // no lease expires within an episode

broker::QueueKeys KeysOf(const std::string& tag) { return broker::QueueKeys("taskq", tag); }

// Completed jobs are kept: the drain finds every job enqueued among them.
broker::FinishPolicy KeepCompleted() {
  broker::FinishPolicy policy;
  policy.keep_completed = Retention{-1, std::chrono::milliseconds(0)};
  return policy;
}

std::string Shares(const std::vector<int64_t>& values) {
  std::string out;
  for (int64_t value : values) out += (out.empty() ? "" : " ") + std::to_string(value);
  return "[" + out + "]";
}

}  // namespace

BalanceRun::BalanceRun(testing::RedisServer& server) : server_(server) {
  redis_ = server_.Connect();
}

BalanceRunResult BalanceRun::RunEpisode(uint64_t seed, int max_steps) {
  server_.Run({"FLUSHALL"});
  server_.Run({"SCRIPT", "FLUSH"});  // a replaced script must be loaded anew
  broker::BrokerOptions options;
  options.redis_url = server_.url();
  brokers_.clear();
  for (int i = 0; i < 3; ++i) brokers_.push_back(std::move(*broker::OpenBroker(options)));
  queue_ = "balance" + std::to_string(seed);
  concurrency_ = 0;
  generation_.clear();
  tokens_ = 0;
  over_shares_ = false;
  over_limit_ = false;
  leases_.clear();
  enqueued_.clear();
  stale_.reset();
  trace_.clear();

  std::mt19937_64 rng(seed);
  BalanceRunResult result;
  auto fail = [&](int step, const std::string& message) {
    result.failed = true;
    result.failed_at_step = step;
    result.message = message + Trace();
    return result;
  };
  const auto shards = static_cast<int32_t>(2 + rng() % 3);
  auto layout = brokers_[0]->SetShards(queue_, shards);
  if (!layout.ok()) return fail(-1, "set_shards: " + layout.status().ToString());
  layout_ = *layout;
  trace_.push_back("set_shards " + std::to_string(shards));
  waiting_.assign(layout_.tags.size(), {});
  busy_shard_ = rng() % layout_.tags.size();
  const int64_t first = shards + static_cast<int64_t>(rng() % (2 * shards + 1));
  if (std::string error = SetLimits(first, &result.counts); !error.empty()) {
    return fail(-1, "set_limits: " + error);
  }

  static const std::vector<std::string> kKinds = {"enqueue",    "claim",       "complete",
                                                  "balance",    "interrupted", "stale_read",
                                                  "stale_move", "set_limits"};
  std::discrete_distribution<size_t> pick({12, 12, 10, 10, 4, 3, 5, 4});  // kKinds' weights
  for (int step = 0; step < max_steps; ++step) {
    const std::string& kind = kKinds[pick(rng)];
    ++result.counts[kind];
    ++result.steps;
    std::string error = Step(kind, rng, &result.counts);
    if (error.empty()) error = CheckAlways();
    if (!error.empty()) return fail(step, kind + ": " + error);
  }
  if (std::string error = Drain(); !error.empty()) return fail(max_steps, "drain: " + error);
  return result;
}

std::string BalanceRun::Trace() const {
  std::string out = "\n  the last steps:";
  const size_t first = trace_.size() > 60 ? trace_.size() - 60 : 0;
  for (size_t i = first; i < trace_.size(); ++i) out += "\n    " + trace_[i];
  return out;
}

std::string BalanceRun::Step(const std::string& kind, std::mt19937_64& rng,
                             std::map<std::string, int64_t>* counts) {
  const size_t n = layout_.tags.size();
  if (kind == "enqueue") return Enqueue(rng);
  if (kind == "claim") return Claim(rng() % n, 1 + static_cast<int32_t>(rng() % 4));
  if (kind == "complete") return leases_.empty() ? "" : Complete(rng() % leases_.size());
  if (kind == "balance") {
    const size_t by = rng() % brokers_.size();
    ++(*counts)["balance:by_b" + std::to_string(by)];
    return Balance(*brokers_[by], "b" + std::to_string(by));
  }
  if (kind == "interrupted") return InterruptedBalance(rng);
  if (kind == "stale_read") return StaleRead();
  if (kind == "stale_move") return StaleMove(rng, counts);
  // set_limits: the same concurrency half the time, else a new one (maybe the same again).
  const auto shards = static_cast<int64_t>(n);
  const bool keep = rng() % 2 == 0;
  const int64_t concurrency =
      keep ? concurrency_ : shards + static_cast<int64_t>(rng() % (2 * shards + 1));
  return SetLimits(concurrency, counts);
}

std::string BalanceRun::Column(int64_t ShardState::*field, const std::vector<ShardState>& shards) {
  std::vector<int64_t> values;
  for (const ShardState& s : shards) values.push_back(s.*field);
  return Shares(values);
}

std::string BalanceRun::SharesOf(const std::vector<ShardState>& shards) {
  return Column(&ShardState::share, shards);
}

std::string BalanceRun::ActiveOf(const std::vector<ShardState>& shards) {
  return Column(&ShardState::active, shards);
}

int64_t BalanceRun::ActiveTotal() const { return static_cast<int64_t>(leases_.size()); }

int64_t BalanceRun::WaitingOn(size_t shard) const {
  return static_cast<int64_t>(waiting_[shard].size());
}

std::vector<BalanceRun::ShardState> BalanceRun::ReadShards() {
  std::vector<broker::Command> reads;
  for (const std::string& tag : layout_.tags) {
    const broker::QueueKeys k = KeysOf(tag);
    reads.push_back({"HMGET", k.meta(), "cc", "cct", "lg", "cbt"});
    reads.push_back({"ZCARD", k.active()});
    reads.push_back({"LLEN", k.wait()});
  }
  std::vector<broker::Reply> replies;
  if (!redis_->Pipeline(reads, &replies).ok()) std::abort();
  std::vector<ShardState> out;
  for (size_t i = 0; i < layout_.tags.size(); ++i) {
    const broker::ReplyView meta = replies[3 * i].view();
    out.push_back({meta[0].AsInt(), meta[1].AsInt(), std::string(meta[2].str()), meta[3].AsInt(),
                   replies[3 * i + 1].view().AsInt(), replies[3 * i + 2].view().AsInt()});
  }
  return out;
}

// A producer places 1 to 5 jobs on one shard, most often the busy one, so that the work is
// uneven and the balances have something to move.
std::string BalanceRun::Enqueue(std::mt19937_64& rng) {
  const auto n = static_cast<int32_t>(layout_.tags.size());
  if (rng() % 8 == 0) busy_shard_ = rng() % layout_.tags.size();
  const size_t shard = rng() % 4 != 0 ? busy_shard_ : rng() % layout_.tags.size();
  const std::string body =
      *EncodeJobBody("model", R"({"n":1})", EnqueueOptions{.queue = queue_}, JobLimits{});
  std::vector<broker::NewJob> jobs(1 + rng() % 5);
  std::string line = "enqueue on " + std::to_string(shard) + ":";
  for (broker::NewJob& job : jobs) {
    job.id = NewJobIdOnShard(static_cast<int32_t>(shard), n);
    job.body = body;
    line += " " + job.id;
  }
  trace_.push_back(line);
  auto got = brokers_[0]->Enqueue(queue_, jobs);
  if (!got.ok()) return "enqueue: " + got.status().ToString();
  for (size_t i = 0; i < jobs.size(); ++i) {
    if ((*got)[i].outcome != broker::EnqueueOutcome::kWaiting) {
      return jobs[i].id + " was not created waiting";
    }
    waiting_[shard].push_back(jobs[i].id);
    enqueued_[jobs[i].id] = shard;
  }
  return "";
}

// A worker's claim on one shard (the tag is the queue name a shard's loop claims with): it takes
// exactly what the shard's share leaves room for, up to what was asked and what waits there.
std::string BalanceRun::Claim(size_t shard, int32_t max_jobs) {
  const ShardState before = ReadShards()[shard];
  const int64_t room = std::max<int64_t>(before.share - before.active, 0);
  const int64_t want = std::min<int64_t>({max_jobs, WaitingOn(shard), room});
  auto claim = brokers_[0]->Claim(layout_.tags[shard], max_jobs, kLease);
  if (!claim.ok()) return "claim on " + layout_.tags[shard] + ": " + claim.status().ToString();
  std::string line = "claim on " + std::to_string(shard) + " up to " + std::to_string(max_jobs) +
                     " (share " + std::to_string(before.share) + ", active " +
                     std::to_string(before.active) + "):";
  for (const broker::ClaimedJob& job : claim->jobs) line += " " + job.id;
  trace_.push_back(line);
  const auto claimed = static_cast<int64_t>(claim->jobs.size());
  if (claimed != want) {
    return "shard " + std::to_string(shard) + " with share " + std::to_string(before.share) + ", " +
           std::to_string(before.active) + " active and " + std::to_string(WaitingOn(shard)) +
           " waiting handed out " + std::to_string(claimed) + " of " + std::to_string(max_jobs) +
           " asked, the model " + std::to_string(want);
  }
  std::vector<std::string>& waiting = waiting_[shard];
  for (const broker::ClaimedJob& job : claim->jobs) {
    auto it = std::find(waiting.begin(), waiting.end(), job.id);
    if (it == waiting.end()) return "claimed " + job.id + ", not waiting on that shard";
    waiting.erase(it);
    leases_.push_back({shard, {job.id, job.token}});
  }
  return "";
}

std::string BalanceRun::Complete(size_t at) {
  const HeldLease held = leases_[at];
  leases_.erase(leases_.begin() + static_cast<std::ptrdiff_t>(at));
  trace_.push_back("complete " + held.lease.id + " on " + std::to_string(held.shard));
  const std::vector<broker::Completion> batch = {{held.lease, "null"}};
  auto done = brokers_[0]->Complete(layout_.tags[held.shard], batch, KeepCompleted());
  if (!done.ok()) return "complete: " + done.status().ToString();
  if (!(*done)[0]) return "the completion of " + held.lease.id + " was refused";
  return "";
}

// A balance by a broker, the newest (steps run one at a time): it never lowers a share below
// the jobs active on its shard, and leaves the shares adding up to the concurrency, what an
// interrupted balance or a stale balancer freed handed out too.
std::string BalanceRun::Balance(broker::Broker& by, const std::string& who) {
  const std::vector<ShardState> before = ReadShards();
  auto moved = by.BalanceShares(layout_);
  ++tokens_;
  const std::vector<ShardState> after = ReadShards();
  trace_.push_back("balance by " + who + " (token " + std::to_string(tokens_) + ", active " +
                   ActiveOf(before) + ", waiting " + Column(&ShardState::waiting, before) +
                   "): " + SharesOf(before) + " -> " + SharesOf(after));
  if (!moved.ok()) return "balance by " + who + ": " + moved.status().ToString();
  int64_t sum = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    const int64_t floor = std::min(before[i].share, std::max<int64_t>(before[i].active, 1));
    if (after[i].share < floor) {
      return "the balance lowered shard " + std::to_string(i) + "'s share from " +
             std::to_string(before[i].share) + " to " + std::to_string(after[i].share) +
             ", below its " + std::to_string(before[i].active) + " active jobs";
    }
    sum += after[i].share;
  }
  // Every slot is shared again, but for slots a shard running beyond its share still holds.
  if (sum != concurrency_ && Occupied(after) < concurrency_) {
    return "after the newest balance the shares " + SharesOf(after) + " add up to " +
           std::to_string(sum) + " with " + ActiveOf(after) + " active, the concurrency is " +
           std::to_string(concurrency_);
  }
  return "";
}

// The slots the shards hold: each its share or the jobs it runs, whichever is more.
int64_t BalanceRun::Occupied(const std::vector<ShardState>& shards) {
  int64_t occupied = 0;
  for (const ShardState& s : shards) occupied += std::max(s.share, s.active);
  return occupied;
}

// share_move.lua as the script now in use (a test may have put back a defect) by EVAL.
broker::Reply BalanceRun::ShareMove(size_t shard, const std::string& mode, int64_t token,
                                    const std::string& generation, int64_t amount) {
  const broker::QueueKeys k = KeysOf(layout_.tags[shard]);
  const broker::ScriptKeys keys = broker::ShareMoveKeys(k);
  broker::Command eval{"EVAL", broker::ScriptNamed("share_move").body};
  eval.Add(static_cast<long long>(keys.size()));
  for (const std::string& key : keys) eval.Add(key);
  eval.Add(k.base()).Add(mode).Add(token).Add(generation).Add(amount).Add(layout_.version);
  return server_.Run(eval);
}

BalanceRun::MoveReply BalanceRun::Move(size_t shard, const std::string& mode, int64_t token,
                                       const std::string& generation, int64_t amount) {
  const broker::Reply reply = ShareMove(shard, mode, token, generation, amount);
  const broker::ReplyView v = reply.view();
  if (v.is_error()) return {true, std::string(v.str()), 0};
  return {false, "", v.AsInt(-1)};
}

// What a balancer does first: a token from the home shard, then a read of every shard, which
// must show what Redis and the model hold.
std::string BalanceRun::ReadAll(int64_t* token, std::vector<std::string>* generations) {
  const broker::Reply counter =
      server_.Run({"HINCRBY", KeysOf(layout_.tags[0]).meta(), "cbn", "1"});
  *token = counter.view().integer();
  ++tokens_;
  if (*token != tokens_) {
    return "the home shard handed out token " + std::to_string(*token) + ", the model counts " +
           std::to_string(tokens_);
  }
  const std::vector<ShardState> shards = ReadShards();
  generations->clear();
  for (size_t i = 0; i < shards.size(); ++i) {
    const broker::Reply reply = ShareMove(i, "read", *token, "", 0);
    const broker::ReplyView v = reply.view();
    if (v.is_error() || v.size() != 5) {
      return "the read of shard " + std::to_string(i) + " by token " + std::to_string(*token) +
             " answered " + std::string(v.is_error() ? v.str() : "no 5 values");
    }
    const ShardState& s = shards[i];
    if (v[0].AsInt() != s.share || v[1].AsInt() != s.active || v[2].AsInt() != WaitingOn(i) ||
        v[3].str() != generation_ || v[4].AsInt() != concurrency_) {
      return "the read of shard " + std::to_string(i) + " answered share " +
             std::to_string(v[0].AsInt()) + ", " + std::to_string(v[1].AsInt()) + " active, " +
             std::to_string(v[2].AsInt()) + " waiting, generation " + std::string(v[3].str()) +
             ", concurrency " + std::to_string(v[4].AsInt()) + "; Redis and the model hold " +
             std::to_string(s.share) + ", " + std::to_string(s.active) + ", " +
             std::to_string(WaitingOn(i)) + ", " + generation_ + ", " +
             std::to_string(concurrency_);
    }
    generations->push_back(std::string(v[3].str()));
  }
  return "";
}

// A balancer killed between its lowering and its raising: it read every shard and lowered one
// share, and never hands out what it freed (the next balance must).
std::string BalanceRun::InterruptedBalance(std::mt19937_64& rng) {
  int64_t token = 0;
  std::vector<std::string> generations;
  if (std::string error = ReadAll(&token, &generations); !error.empty()) return error;
  const std::vector<ShardState> shards = ReadShards();
  std::vector<size_t> lowerable;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].share > std::max<int64_t>(shards[i].active, 1)) lowerable.push_back(i);
  }
  std::string line = "interrupted balance (token " + std::to_string(token) + ", shares " +
                     SharesOf(shards) + ", active " + ActiveOf(shards) + ")";
  if (lowerable.empty()) {
    trace_.push_back(line + ": no share to lower");
    return "";
  }
  const size_t i = lowerable[rng() % lowerable.size()];
  const int64_t amount = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(shards[i].share));
  const int64_t want = std::min(amount, shards[i].share - std::max<int64_t>(shards[i].active, 1));
  const MoveReply given = Move(i, "give", token, generations[i], amount);
  trace_.push_back(line + ": give up to " + std::to_string(amount) + " on " + std::to_string(i) +
                   " -> " + (given.refused ? given.error : std::to_string(given.value)));
  if (given.refused) return "the give of the newest balancer was refused: " + given.error;
  if (given.value != want) {
    return "a give of up to " + std::to_string(amount) + " on shard " + std::to_string(i) +
           " (share " + std::to_string(shards[i].share) + ", " + std::to_string(shards[i].active) +
           " active) took " + std::to_string(given.value) +
           ", the floor (its active jobs, at least 1) allows " + std::to_string(want);
  }
  return "";
}

std::string BalanceRun::StaleRead() {
  StaleBalancer stale;
  if (std::string error = ReadAll(&stale.token, &stale.generations); !error.empty()) return error;
  trace_.push_back("stale balancer reads (token " + std::to_string(stale.token) + ")");
  stale_ = std::move(stale);
  return "";
}

// The balancer that read last time StaleRead ran gives or takes on one shard now. A newer read
// since (any balance, a balance cut short, limits set) or limits set since must refuse it
// (FENCED, else LIMITS) and leave the shard as it was. Not refused, it moves as a balancer
// would: it gives up to any amount, and takes only what it gave.
std::string BalanceRun::StaleMove(std::mt19937_64& rng, std::map<std::string, int64_t>* counts) {
  if (!stale_) return StaleRead();
  StaleBalancer& stale = *stale_;
  const size_t i = rng() % layout_.tags.size();
  const bool fenced = tokens_ > stale.token;
  const bool limits_set = stale.generations[i] != generation_;
  const bool refused = fenced || limits_set;
  const bool take = stale.freed > 0 ? rng() % 2 == 0 : refused && rng() % 2 == 0;
  const int64_t amount =
      take && stale.freed > 0 ? stale.freed : 1 + static_cast<int64_t>(rng() % 3);
  const std::string mode = take ? "take" : "give";
  const ShardState before = ReadShards()[i];
  const MoveReply reply = Move(i, mode, stale.token, stale.generations[i], amount);
  const ShardState after = ReadShards()[i];
  const std::string what = "stale balancer (token " + std::to_string(stale.token) + " of " +
                           std::to_string(tokens_) + (limits_set ? ", limits set since" : "") +
                           ") " + mode + " " + std::to_string(amount) + " on " + std::to_string(i) +
                           " (share " + std::to_string(before.share) + ", " +
                           std::to_string(before.active) + " active)";
  trace_.push_back(what + " -> " + (reply.refused ? reply.error : std::to_string(reply.value)));
  if (refused) {
    ++(*counts)["stale_move:refused"];
    const std::string expected = fenced ? "FENCED" : "LIMITS";
    if (!reply.refused || !reply.error.starts_with(expected)) {
      return what + " answered " + (reply.refused ? reply.error : std::to_string(reply.value)) +
             ", not " + expected;
    }
    if (after.share != before.share || after.fence != before.fence ||
        after.generation != before.generation) {
      return what + " was refused, yet wrote: share " + std::to_string(after.share) + ", cbt " +
             std::to_string(after.fence) + " (was " + std::to_string(before.fence) + ")";
    }
    return "";
  }
  ++(*counts)["stale_move:accepted"];
  if (reply.refused) return what + " was refused, though no newer read nor limits came since";
  if (take) {
    stale.freed -= amount;
    if (reply.value != before.share + amount) {
      return what + " answered the share " + std::to_string(reply.value);
    }
    return "";
  }
  // Nothing when the shard runs its share or more (a limit lowered below what runs).
  const int64_t want =
      std::max<int64_t>(0, std::min(amount, before.share - std::max<int64_t>(before.active, 1)));
  stale.freed += std::max<int64_t>(reply.value, 0);
  if (reply.value != want) return what + " took " + std::to_string(reply.value);
  return "";
}

// Limits set through a broker. The same concurrency keeps every share (as balanced); a new one
// is split by the work: ShareTargets of each shard's jobs active and waiting. Either way every
// shard gets the new generation and the concurrency.
std::string BalanceRun::SetLimits(int64_t concurrency, std::map<std::string, int64_t>* counts) {
  const std::vector<ShardState> before = ReadShards();
  const bool same = concurrency == concurrency_;
  QueueLimits limits;
  limits.concurrency = static_cast<int32_t>(concurrency);
  const Status set = brokers_[0]->SetLimits(queue_, limits);
  ++tokens_;
  const std::vector<ShardState> after = ReadShards();
  trace_.push_back("set_limits " + std::to_string(concurrency_) + " -> " +
                   std::to_string(concurrency) + " (active " + ActiveOf(before) +
                   "): " + SharesOf(before) + " -> " + SharesOf(after));
  if (!set.ok()) return "set_limits: " + set.ToString();
  const std::string generation = after[0].generation;
  for (size_t i = 0; i < after.size(); ++i) {
    if (after[i].generation.empty() || after[i].generation == generation_ ||
        after[i].generation != generation || after[i].total != concurrency) {
      return "shard " + std::to_string(i) + " holds generation '" + after[i].generation +
             "' and concurrency " + std::to_string(after[i].total) + " after the limits were set";
    }
  }
  generation_ = generation;
  int64_t sum_before = 0;
  for (const ShardState& shard : before) sum_before += shard.share;
  // The same concurrency with every slot shared keeps the shares; with slots a balance cut short
  // left unshared, they are handed out as for a new one.
  if (same && sum_before == concurrency) {
    ++(*counts)["set_limits:same"];
    for (size_t i = 0; i < after.size(); ++i) {
      if (after[i].share != before[i].share) {
        return "the same concurrency moved the shares " + SharesOf(before) + " to " +
               SharesOf(after);
      }
    }
    return "";
  }
  // A new one keeps at least what runs on each shard (at least 1) when that fits, and every
  // share it had when the limit does not shrink; the shares add up to it.
  int64_t floors = 0, keeping = 0;
  for (const ShardState& shard : before) {
    floors += std::max<int64_t>(shard.active, 1);
    keeping += std::max<int64_t>({shard.active, 1, shard.share});
  }
  const bool fits = floors <= concurrency;
  ++(*counts)[fits ? "set_limits:new" : "set_limits:below_running"];
  int64_t sum = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    sum += after[i].share;
    const bool below_running = fits && after[i].share < std::max<int64_t>(before[i].active, 1);
    const bool cut = keeping <= concurrency && after[i].share < before[i].share;
    if (after[i].share < 1 || below_running || cut) {
      return "a new concurrency " + std::to_string(concurrency) + " was split " + SharesOf(after) +
             " from " + SharesOf(before) + " with " + ActiveOf(before) + " active";
    }
  }
  if (sum > concurrency || (sum < concurrency && Occupied(after) < concurrency)) {
    return "a new concurrency " + std::to_string(concurrency) + " was split " + SharesOf(after) +
           " with " + ActiveOf(after) + " active";
  }
  concurrency_ = concurrency;
  // Lowered below what runs (plus one for each idle shard), the jobs running beyond it finish
  // first: until then the queue may run more than the new limit.
  over_limit_ = !fits;
  over_shares_ = !fits;
  return "";
}

// What holds after every step, read from Redis.
std::string BalanceRun::CheckAlways() {
  const std::vector<ShardState> shards = ReadShards();
  const int64_t cbn = server_.Run({"HGET", KeysOf(layout_.tags[0]).meta(), "cbn"}).view().AsInt();
  if (cbn != tokens_) {
    return "the home shard counts " + std::to_string(cbn) + " tokens, the model " +
           std::to_string(tokens_);
  }
  std::vector<int64_t> active(shards.size(), 0);
  for (const HeldLease& held : leases_) ++active[held.shard];
  int64_t shares = 0, running = 0;
  bool within = true;
  for (size_t i = 0; i < shards.size(); ++i) {
    const ShardState& s = shards[i];
    const std::string shard = "shard " + std::to_string(i);
    if (s.active != active[i] || s.waiting != WaitingOn(i)) {
      return shard + " holds " + std::to_string(s.active) + " active and " +
             std::to_string(s.waiting) + " waiting, the model " + std::to_string(active[i]) +
             " and " + std::to_string(WaitingOn(i));
    }
    if (s.share < 1) return shard + " has the share " + std::to_string(s.share);
    if (s.total != concurrency_ || s.generation != generation_) {
      return shard + " holds concurrency " + std::to_string(s.total) + " of generation '" +
             s.generation + "', the limits set " + std::to_string(concurrency_) + " of '" +
             generation_ + "'";
    }
    within = within && s.active <= s.share;
    shares += s.share;
    running += s.active;
  }
  if (over_shares_ && within) over_shares_ = false;
  if (!over_shares_ && !within) {
    return "a shard runs more than its share: shares " + SharesOf(shards) + ", active " +
           ActiveOf(shards) + " (concurrency " + std::to_string(concurrency_) + ")";
  }
  if (shares > concurrency_) {
    return "the shares " + SharesOf(shards) + " add up to more than the concurrency " +
           std::to_string(concurrency_);
  }
  // After a limit lowered below what runs, the queue as a whole is back under it once every
  // shard runs within its share (then no shard starts beyond it); until then, shards within
  // theirs may start jobs while another still finishes its extra ones.
  if (over_limit_ && running <= concurrency_ && within) over_limit_ = false;
  if (!over_limit_ && running > concurrency_) {
    return "the shards run " + ActiveOf(shards) + ", more than the concurrency " +
           std::to_string(concurrency_) + " (shares " + SharesOf(shards) + ")";
  }
  return "";
}

// The end of an episode: balances, claims and completions on every shard until nothing waits or
// runs; then every job enqueued is among its shard's completed jobs.
std::string BalanceRun::Drain() {
  trace_.push_back("drain");
  for (int round = 0; round < 1000; ++round) {
    if (std::string error = Balance(*brokers_[0], "b0"); !error.empty()) return error;
    while (!leases_.empty()) {
      if (std::string error = Complete(0); !error.empty()) return error;
    }
    bool claimed = false;
    for (size_t i = 0; i < layout_.tags.size(); ++i) {
      if (waiting_[i].empty()) continue;
      claimed = true;
      if (std::string error = Claim(i, 50); !error.empty()) return error;
    }
    if (std::string error = CheckAlways(); !error.empty()) return error;
    if (!claimed && leases_.empty()) break;
  }
  std::set<std::string> completed;
  for (const std::string& tag : layout_.tags) {
    const broker::Reply ids = server_.Run({"ZRANGE", KeysOf(tag).completed(), "0", "-1"});
    for (size_t j = 0; j < ids.view().size(); ++j)
      completed.insert(std::string(ids.view()[j].str()));
  }
  for (const auto& [id, shard] : enqueued_) {
    if (completed.count(id) == 0) {
      return id + " (enqueued on shard " + std::to_string(shard) + ") is not completed";
    }
  }
  if (completed.size() != enqueued_.size()) {
    return std::to_string(completed.size()) + " jobs completed, " +
           std::to_string(enqueued_.size()) + " enqueued";
  }
  return "";
}

}  // namespace taskq::model
