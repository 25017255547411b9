#include "shard_run.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "broker/keys.h"
#include "common/job_codec.h"
#include "common/shard_placement.h"

namespace taskq::model {
namespace {

const std::string kQueue = "q";
constexpr auto kLease = std::chrono::seconds(60);  // no lease expires within an episode
constexpr int64_t kFarDelayMs = 3600 * 1000;       // a delayed job is due only when promoted
// Small pools, so that unique keys collide and groups share shards.
const std::vector<std::string> kUniqueKeys = {"k1", "k2", "k3", "k4"};
const std::vector<std::string> kGroups = {"g1", "g2", "g3"};

// Finished jobs are kept: the model knows exactly what each shard holds until a step cleans.
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

broker::QueueKeys KeysOf(const std::string& tag) { return broker::QueueKeys("taskq", tag); }

const std::string& JobBody() {
  static const std::string body =
      *EncodeJobBody("model", R"({"n":1})", EnqueueOptions{.queue = kQueue}, JobLimits{});
  return body;
}

std::string OutcomeName(broker::EnqueueOutcome outcome) {
  switch (outcome) {
    case broker::EnqueueOutcome::kExisted:
      return "existed";
    case broker::EnqueueOutcome::kWaiting:
      return "waiting";
    case broker::EnqueueOutcome::kDelayed:
      return "delayed";
    case broker::EnqueueOutcome::kUniqueHeld:
      return "unique held";
  }
  return "?";
}

const char* RemoveName(RemoveOutcome outcome) {
  switch (outcome) {
    case RemoveOutcome::kNotFound:
      return "not found";
    case RemoveOutcome::kRemoved:
      return "removed";
    case RemoveOutcome::kStopRequested:
      return "stop requested";
    case RemoveOutcome::kRefused:
      return "refused";
  }
  return "?";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : " ") + item;
  return out;
}

}  // namespace

ShardRun::ShardRun(testing::RedisServer& server) : server_(server) { redis_ = server_.Connect(); }

broker::Reply ShardRun::Redis(const broker::Command& command) {
  auto reply = redis_->Run(command);
  if (!reply.ok()) std::abort();  // the test's own server: a transport error is a broken test
  return std::move(*reply);
}

std::vector<broker::Reply> ShardRun::Pipeline(const std::vector<broker::Command>& commands) {
  std::vector<broker::Reply> replies;
  if (!redis_->Pipeline(commands, &replies).ok()) std::abort();
  return replies;
}

ShardRunResult ShardRun::RunEpisode(uint64_t seed, int max_steps) {
  Redis({"FLUSHALL"});
  Redis({"SCRIPT", "FLUSH"});  // a replaced script must be loaded anew
  // Fresh brokers: none remembers a layout from another episode, so a seed replays exactly.
  broker::BrokerOptions options;
  options.redis_url = server_.url();
  admin_ = std::move(*broker::OpenBroker(options));
  producers_.clear();
  for (int i = 0; i < 2; ++i) producers_.push_back(std::move(*broker::OpenBroker(options)));
  tags_ = {kQueue};
  version_ = 0;
  every_tag_ = {kQueue};
  jobs_.clear();
  gone_.clear();
  holders_.clear();
  created_on_.clear();
  leases_.clear();
  trace_.clear();
  next_id_ = 0;
  static const std::vector<std::pair<std::string, int>> kWeights = {
      {"enqueue", 10},   {"enqueue_bulk", 7}, {"claim", 12}, {"finish", 10},    {"remove", 4},
      {"retry_dead", 3}, {"promote", 2},      {"clean", 3},  {"set_shards", 9}, {"settle", 4}};
  int total = 0;
  for (const auto& [kind, weight] : kWeights) total += weight;
  std::mt19937_64 rng(seed);
  ShardRunResult result;
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
    std::string error = Step(kind, rng, &result.counts);
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

std::string ShardRun::Trace() const {
  std::string out = "\n  the last steps:";
  const size_t first = trace_.size() > 60 ? trace_.size() - 60 : 0;
  for (size_t i = first; i < trace_.size(); ++i) out += "\n    " + trace_[i];
  return out;
}

std::string ShardRun::Step(const std::string& kind, std::mt19937_64& rng,
                           std::map<std::string, int64_t>* counts) {
  if (kind == "enqueue") return Enqueue(rng, 1);
  if (kind == "enqueue_bulk") return Enqueue(rng, 1 + static_cast<int>(rng() % 50));
  if (kind == "claim") {
    // Now and then a shard an earlier layout dropped, as a worker's old loop might: it holds
    // nothing to claim.
    std::vector<std::string> dropped;
    for (const std::string& tag : every_tag_) {
      if (std::find(tags_.begin(), tags_.end(), tag) == tags_.end()) dropped.push_back(tag);
    }
    const std::string tag =
        !dropped.empty() && rng() % 10 == 0 ? Pick(dropped, rng()) : Pick(tags_, rng());
    int claimed = 0;
    return Claim(tag, 1 + static_cast<int32_t>(rng() % 6), &claimed);
  }
  if (kind == "finish") return Finish(rng, false);
  if (kind == "remove") return Remove(rng);
  if (kind == "retry_dead") return RetryDead(rng);
  if (kind == "promote") return Promote(rng);
  if (kind == "clean") return Clean(rng() % 2 == 0 ? JobState::kCompleted : JobState::kDead);
  if (kind == "set_shards") return SetShards(rng, counts);
  // settle: the workers catch up, and now and then an operator cleans the finished jobs, so
  // that the queue is empty often enough for changes of layout to go through.
  if (std::string error = Settle(false); !error.empty()) return error;
  if (rng() % 2 == 0) return "";
  if (std::string error = Clean(JobState::kCompleted); !error.empty()) return error;
  return Clean(JobState::kDead);
}

bool ShardRun::Live(const JobInfo& job) const {
  return job.state != State::kCompleted && job.state != State::kDead;
}

int64_t ShardRun::CountIn(State state) const {
  int64_t n = 0;
  for (const auto& [id, job] : jobs_) n += job.state == state ? 1 : 0;
  return n;
}

std::string ShardRun::PlacedTag(const broker::NewJob& job) const {
  const PlacementKeys keys{job.group, job.unique ? std::string_view(job.unique->key) : "", job.id};
  return tags_[static_cast<size_t>(PlacementShard(keys, static_cast<int32_t>(tags_.size())))];
}

const char* ShardRun::StateName(State state) {
  static const char* const kNames[] = {"waiting", "delayed",   "retrying",
                                       "active",  "completed", "dead"};
  return kNames[static_cast<int>(state)];
}

// Why a change of the number of shards must be refused (empty: it must go through): any job at
// all on a shard of the queue, completed and dead ones too. A job stays on its shard for life:
// on a shard the change drops nothing would read it again, and on a shard it keeps its id would
// no longer lead there (an enqueue of the same id would create a second job on another shard).
std::string ShardRun::WhyRefused() const {
  if (jobs_.empty()) return "";
  const auto& [id, job] = *jobs_.begin();
  return id + " is " + StateName(job.state) + " on " + job.tag;
}

// A change of the number of shards through one of the brokers. What the model expects: the same
// number changes nothing; else it goes through exactly when WhyRefused finds nothing. A refused
// change puts the old layout back, at the version after the one the change wrote.
std::string ShardRun::SetShards(std::mt19937_64& rng, std::map<std::string, int64_t>* counts) {
  const int32_t n = 1 + static_cast<int32_t>(rng() % 4);
  const size_t by = rng() % (producers_.size() + 1);
  broker::Broker& broker = by == 0 ? *admin_ : *producers_[by - 1];
  const std::string who = by == 0 ? "admin" : "p" + std::to_string(by);
  const std::string blocker = WhyRefused();
  const int32_t before = static_cast<int32_t>(tags_.size());
  auto got = broker.SetShards(kQueue, n);
  const std::string what = "set_shards " + std::to_string(before) + " -> " + std::to_string(n) +
                           " via " + who + " (v" + std::to_string(version_) + ")";
  if (n == before) {
    ++(*counts)["set_shards:same"];
    trace_.push_back(what + ": same");
    if (!got.ok()) return what + " (no change) failed: " + got.status().ToString();
    if (got->tags != tags_ || got->version != version_) {
      return what + " (no change) returned v" + std::to_string(got->version) + " [" +
             Join(got->tags) + "]";
    }
    return "";
  }
  if (!blocker.empty()) {
    ++(*counts)["set_shards:refused"];
    trace_.push_back(what + ": refused, as " + blocker);
    if (got.ok()) {
      return what + " went through to [" + Join(got->tags) + "], though " + blocker;
    }
    if (got.status().code() != StatusCode::kFailedPrecondition) {
      return what + " failed otherwise than refused: " + got.status().ToString();
    }
    version_ += 2;  // the change wrote version + 1 on some shards, the restore version + 2
    return "";
  }
  ++(*counts)["set_shards:changed"];
  if (!got.ok()) return what + " was refused: " + got.status().ToString();
  trace_.push_back(what + ": now v" + std::to_string(got->version) + " [" + Join(got->tags) + "]");
  if (got->shards() != n || got->version != version_ + 1 || got->tags[0] != kQueue) {
    return what + " returned v" + std::to_string(got->version) + " [" + Join(got->tags) + "]";
  }
  // A shard kept keeps its tag (its jobs stay there); a new one is "q#<i>.<salt>".
  for (size_t i = 1; i < got->tags.size(); ++i) {
    const bool kept = i < tags_.size();
    if (kept ? got->tags[i] != tags_[i]
             : !got->tags[i].starts_with(kQueue + "#" + std::to_string(i) + ".")) {
      return what + " gave shard " + std::to_string(i) + " the tag " + got->tags[i];
    }
  }
  tags_ = got->tags;
  version_ = got->version;
  every_tag_.insert(tags_.begin(), tags_.end());
  return "";
}

broker::NewJob ShardRun::RandomJob(std::mt19937_64& rng, const std::string& id) {
  broker::NewJob job;
  job.id = id;
  job.body = JobBody();
  const uint64_t r = rng() % 20;
  if (r < 5) {
    UniqueOptions unique;
    unique.key = Pick(kUniqueKeys, rng());
    unique.mode = UniqueOptions::Mode::kUntilCompleted;
    job.unique = unique;
  } else if (r < 10) {
    job.group = Pick(kGroups, rng());  // never with a unique key: a sharded queue refuses both
  }
  job.priority = rng() % 5 == 0 ? Pick(std::vector<int32_t>{-1, 2}, rng()) : 0;
  job.delay_ms = rng() % 12 == 0 ? kFarDelayMs : 0;
  return job;
}

// One job (enqueue_one.lua when it is plain) or a bulk (enqueue.lua, one call per shard) from a
// random producer, which may place by a layout that changed since it last read it. Some ids are
// those of jobs that exist, sent again as they were first (a producer's retry): they must answer
// "existed" and create nothing; some reuse the ids of jobs removed.
std::string ShardRun::Enqueue(std::mt19937_64& rng, int count) {
  const size_t by = rng() % (producers_.size() + 1);
  broker::Broker& broker = by == 0 ? *admin_ : *producers_[by - 1];
  // Any job may be sent again: a change of layout leaves no job behind, so every job that exists
  // was placed by the layout of now, and its id leads to its shard.
  std::vector<std::string> repeatable;
  for (const auto& [id, job] : jobs_) repeatable.push_back(id);
  std::vector<broker::NewJob> batch;
  for (int i = 0; i < count; ++i) {
    const uint64_t r = rng() % 20;
    if (r < 3 && !repeatable.empty()) {
      batch.push_back(jobs_[Pick(repeatable, rng())].spec);
    } else if (r == 3 && !batch.empty()) {
      const broker::NewJob again = Pick(batch, rng());  // twice in one bulk
      batch.push_back(again);
    } else if (r == 4 && !gone_.empty()) {
      // The id of a job removed, for a new job, once per bulk: sent twice with other placement
      // keys, it could land on two shards.
      auto it = gone_.begin();
      std::advance(it, rng() % gone_.size());
      const bool sent = std::any_of(batch.begin(), batch.end(),
                                    [&](const broker::NewJob& job) { return job.id == *it; });
      batch.push_back(sent ? RandomJob(rng, "j" + std::to_string(next_id_++))
                           : RandomJob(rng, *it));
    } else {
      batch.push_back(RandomJob(rng, "j" + std::to_string(next_id_++)));
    }
  }
  // What each job must answer, in order (a repeated id answers as its first occurrence did), and
  // the model after the enqueue.
  std::vector<broker::EnqueueReply> want;
  std::string line = "enqueue via " + std::string(by == 0 ? "admin" : "p" + std::to_string(by)) +
                     " (v" + std::to_string(version_) + "):";
  for (const broker::NewJob& job : batch) {
    broker::EnqueueReply& expect = want.emplace_back();
    line += " " + job.id;
    if (job.unique) line += "/u=" + job.unique->key;
    if (!job.group.empty()) line += "/g=" + job.group;
    if (job.priority != 0) line += "/p" + std::to_string(job.priority);
    if (job.delay_ms > 0) line += "/delayed";
    if (jobs_.count(job.id) > 0) {
      expect.outcome = broker::EnqueueOutcome::kExisted;
      line += "=existed";
      continue;
    }
    if (job.unique && holders_.count(job.unique->key) > 0) {
      expect.outcome = broker::EnqueueOutcome::kUniqueHeld;
      expect.holder_id = holders_[job.unique->key];
      line += "=held by " + expect.holder_id;
      continue;
    }
    JobInfo& info = jobs_[job.id];
    info.spec = job;
    info.tag = PlacedTag(job);
    info.layout_tags = tags_;
    info.state = job.delay_ms > 0 ? State::kDelayed : State::kWaiting;
    info.holds_key = job.unique.has_value();
    if (job.unique) holders_[job.unique->key] = job.id;
    gone_.erase(job.id);
    ++created_on_[info.tag];
    expect.outcome =
        job.delay_ms > 0 ? broker::EnqueueOutcome::kDelayed : broker::EnqueueOutcome::kWaiting;
    line += "@" + info.tag;
  }
  trace_.push_back(line);
  // Every enqueue succeeds: a producer refused for its layout reads it again and places again.
  auto got = broker.Enqueue(kQueue, batch);
  if (!got.ok())
    return "enqueue of " + std::to_string(batch.size()) + ": " + got.status().ToString();
  if (got->size() != batch.size()) return "enqueue answered " + std::to_string(got->size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const broker::EnqueueReply& reply = (*got)[i];
    if (reply.outcome != want[i].outcome || reply.holder_id != want[i].holder_id) {
      auto said = [](const broker::EnqueueReply& r) {
        return OutcomeName(r.outcome) + (r.holder_id.empty() ? "" : " by " + r.holder_id);
      };
      return batch[i].id + " answered " + said(reply) + ", the model says " + said(want[i]);
    }
  }
  return "";
}

// A worker's claim on one shard (the tag is the queue name a shard's loop claims with). Every job
// claimed must be one the model has on that shard, waiting or retrying; a shard where the model
// has jobs waiting must hand out at least one.
std::string ShardRun::Claim(const std::string& tag, int32_t max_jobs, int* claimed) {
  auto claim = admin_->Claim(tag, max_jobs, kLease);
  if (!claim.ok()) return "claim on " + tag + ": " + claim.status().ToString();
  *claimed = static_cast<int>(claim->jobs.size());
  std::string line = "claim " + tag + " up to " + std::to_string(max_jobs) + ":";
  for (const broker::ClaimedJob& job : claim->jobs) line += " " + job.id;
  trace_.push_back(line);
  if (*claimed > max_jobs) return tag + " handed out " + std::to_string(*claimed) + " jobs";
  std::string waiting;
  for (const auto& [id, job] : jobs_) {
    if (job.tag == tag && job.state == State::kWaiting) waiting = id;
  }
  for (const broker::ClaimedJob& job : claim->jobs) {
    auto it = jobs_.find(job.id);
    if (it == jobs_.end()) {
      return "claimed " + job.id + " on " + tag + ", a job the model does not have" +
             (gone_.count(job.id) > 0 ? " (it was removed)" : "");
    }
    JobInfo& info = it->second;
    if (info.tag != tag) return "claimed " + job.id + " on " + tag + ", placed on " + info.tag;
    if (info.state != State::kWaiting && info.state != State::kRetrying) {
      return "claimed " + job.id + " on " + tag + " while it is " + StateName(info.state);
    }
    info.state = State::kActive;
    leases_.push_back({tag, {job.id, job.token}});
  }
  if (*claimed == 0 && !waiting.empty()) {
    return "a claim on " + tag + " found nothing, while " + waiting + " waits there";
  }
  return "";
}

namespace {

// The unique key a finished or removed job held is free again.
void ReleaseKey(std::map<std::string, std::string>& holders, const std::string& id,
                const broker::NewJob& spec, bool* holds_key) {
  if (*holds_key && spec.unique) {
    auto it = holders.find(spec.unique->key);
    if (it != holders.end() && it->second == id) holders.erase(it);
  }
  *holds_key = false;
}

}  // namespace

// A worker finishes some of the jobs it holds on their shards: completes them, fails them for
// good, or fails them with a short backoff. Every lease is still valid, so every call succeeds.
std::string ShardRun::Finish(std::mt19937_64& rng, bool all_complete) {
  if (leases_.empty()) return "";
  std::map<std::string, std::vector<broker::Completion>> completions;
  std::map<std::string, std::vector<broker::Failure>> failures;
  std::vector<HeldLease> kept;
  std::string line = "finish:";
  for (const HeldLease& held : leases_) {
    if (!all_complete && rng() % 2 == 0) {
      kept.push_back(held);
      continue;
    }
    JobInfo& info = jobs_[held.lease.id];
    const uint64_t r = all_complete ? 0 : rng() % 10;
    if (r < 6) {
      completions[held.tag].push_back({held.lease, "null"});
      info.state = State::kCompleted;
      ReleaseKey(holders_, held.lease.id, info.spec, &info.holds_key);
      line += " " + held.lease.id + "=completed";
    } else if (r < 8) {
      failures[held.tag].push_back({held.lease, R"({"attempt":1,"message":"boom"})", -1});
      info.state = State::kDead;
      ReleaseKey(holders_, held.lease.id, info.spec, &info.holds_key);
      line += " " + held.lease.id + "=dead";
    } else {
      const int64_t delay = Pick(std::vector<int64_t>{0, 5, 20}, rng());
      failures[held.tag].push_back({held.lease, R"({"attempt":1,"message":"again"})", delay});
      info.state = State::kRetrying;  // keeps its unique key
      line += " " + held.lease.id + "=retry+" + std::to_string(delay) + "ms";
    }
  }
  leases_ = std::move(kept);
  trace_.push_back(line);
  for (const auto& [tag, batch] : completions) {
    auto done = admin_->Complete(tag, batch, KeepEverything());
    if (!done.ok()) return "complete on " + tag + ": " + done.status().ToString();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!(*done)[i]) return "the completion of " + batch[i].lease.id + " on " + tag + " refused";
    }
  }
  for (const auto& [tag, batch] : failures) {
    auto done = admin_->Fail(tag, batch, KeepEverything());
    if (!done.ok()) return "fail on " + tag + ": " + done.status().ToString();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!(*done)[i]) return "the failure of " + batch[i].lease.id + " on " + tag + " refused";
    }
  }
  return "";
}

// Remove by id, which finds the job on whichever shard holds it: a running job is refused, any
// other is removed (its unique key freed), an id of no job is not found.
std::string ShardRun::Remove(std::mt19937_64& rng) {
  std::string id = "nobody";
  const uint64_t r = rng() % 10;
  if (r < 7 && !jobs_.empty()) {
    auto it = jobs_.begin();
    std::advance(it, rng() % jobs_.size());
    id = it->first;
  } else if (r < 9 && !gone_.empty()) {
    auto it = gone_.begin();
    std::advance(it, rng() % gone_.size());
    id = *it;
  }
  auto it = jobs_.find(id);
  const RemoveOutcome want = it == jobs_.end()                    ? RemoveOutcome::kNotFound
                             : it->second.state == State::kActive ? RemoveOutcome::kRefused
                                                                  : RemoveOutcome::kRemoved;
  trace_.push_back("remove " + id + ": " + RemoveName(want));
  auto got = admin_->Remove(kQueue, id, broker::RemoveMode::kRemove);
  if (!got.ok()) return "remove " + id + ": " + got.status().ToString();
  if (*got != want) {
    return "remove " + id + " answered " + RemoveName(*got) + ", the model says " +
           RemoveName(want);
  }
  if (want == RemoveOutcome::kRemoved) {
    ReleaseKey(holders_, id, it->second.spec, &it->second.holds_key);
    jobs_.erase(it);
    gone_.insert(id);
  }
  return "";
}

// Dead jobs back to waiting, by id (found on their shards; ids not dead are skipped) or all of
// them on every shard. They run again without their unique key (released when they died).
std::string ShardRun::RetryDead(std::mt19937_64& rng) {
  std::vector<std::string> dead, others;
  for (const auto& [id, job] : jobs_) (job.state == State::kDead ? dead : others).push_back(id);
  std::vector<std::string> ids;
  std::set<std::string> moving;
  if (rng() % 2 == 0) {
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n && !dead.empty(); ++i) {
      ids.push_back(Pick(dead, rng()));
      moving.insert(ids.back());
    }
    if (!others.empty() && rng() % 2 == 0) ids.push_back(Pick(others, rng()));
    if (ids.empty()) ids.push_back("nobody");
  } else {
    moving.insert(dead.begin(), dead.end());
  }
  trace_.push_back("retry dead [" + Join(ids) + "]: " + std::to_string(moving.size()));
  auto got = admin_->RetryDead(kQueue, ids, 1000);
  if (!got.ok()) return "retry dead: " + got.status().ToString();
  if (*got != static_cast<int64_t>(moving.size())) {
    return "retry dead [" + Join(ids) + "] moved " + std::to_string(*got) + ", the model says " +
           std::to_string(moving.size());
  }
  for (const std::string& id : moving) jobs_[id].state = State::kWaiting;
  return "";
}

// A delayed job made waiting by id; any other job is left as it is (a retrying one is promoted
// unless a claim has moved it to waiting already: waiting either way).
std::string ShardRun::Promote(std::mt19937_64& rng) {
  if (jobs_.empty()) return "";
  std::vector<std::string> delayed;
  for (const auto& [id, job] : jobs_) {
    if (job.state == State::kDelayed) delayed.push_back(id);
  }
  std::string id;
  if (!delayed.empty() && rng() % 10 < 7) {
    id = Pick(delayed, rng());
  } else {
    auto it = jobs_.begin();
    std::advance(it, rng() % jobs_.size());
    id = it->first;
  }
  JobInfo& info = jobs_[id];
  trace_.push_back("promote " + id + " (" + StateName(info.state) + ")");
  auto got = admin_->Promote(kQueue, id);
  if (!got.ok()) return "promote " + id + ": " + got.status().ToString();
  if (info.state == State::kRetrying) {
    info.state = State::kWaiting;
    return "";
  }
  if (*got != (info.state == State::kDelayed)) {
    return "promote of " + id + ", " + StateName(info.state) + ", answered " +
           (*got ? "promoted" : "not promoted");
  }
  if (info.state == State::kDelayed) info.state = State::kWaiting;
  return "";
}

// Every completed (or dead) job on every shard is deleted.
std::string ShardRun::Clean(JobState state) {
  const State which = state == JobState::kCompleted ? State::kCompleted : State::kDead;
  const int64_t want = CountIn(which);
  trace_.push_back(std::string("clean ") + JobStateName(state) + ": " + std::to_string(want));
  auto got = admin_->Clean(kQueue, state, std::chrono::milliseconds(0), 10000);
  if (!got.ok()) return "clean: " + got.status().ToString();
  if (*got != want) {
    return std::string("clean of ") + JobStateName(state) + " removed " + std::to_string(*got) +
           ", the model has " + std::to_string(want);
  }
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->second.state == which) {
      gone_.insert(it->first);
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  return "";
}

std::string ShardRun::Settle(bool retry_dead) {
  std::mt19937_64 no_random(1);  // Finish draws nothing when all complete
  if (std::string error = Finish(no_random, true); !error.empty()) return error;
  if (retry_dead) {
    const int64_t dead = CountIn(State::kDead);
    trace_.push_back("retry every dead job: " + std::to_string(dead));
    auto got = admin_->RetryDead(kQueue, {}, 1000);
    if (!got.ok()) return "retry dead: " + got.status().ToString();
    if (*got != dead) {
      return "retrying every dead job moved " + std::to_string(*got) + ", the model has " +
             std::to_string(dead);
    }
    for (auto& [id, job] : jobs_) {
      if (job.state == State::kDead) job.state = State::kWaiting;
    }
  }
  for (auto& [id, job] : jobs_) {
    if (job.state != State::kDelayed) continue;
    auto got = admin_->Promote(kQueue, id);
    if (!got.ok()) return "promote " + id + ": " + got.status().ToString();
    if (!*got) return "promote of delayed " + id + " (on " + job.tag + ") found nothing to promote";
    job.state = State::kWaiting;
  }
  // Claims and completions on every shard until nothing waits or retries (a backoff is at most
  // 20 ms): a job no claim reaches is lost to the queue.
  for (int round = 0; round < 300; ++round) {
    bool any = false;
    for (const auto& [id, job] : jobs_) {
      any = any || job.state == State::kWaiting || job.state == State::kRetrying;
    }
    if (!any) return "";
    bool moved = false;
    for (const std::string& tag : tags_) {
      for (int claimed = 1; claimed > 0;) {
        if (std::string error = Claim(tag, 50, &claimed); !error.empty()) return error;
        if (std::string error = Finish(no_random, true); !error.empty()) return error;
        moved = moved || claimed > 0;
      }
    }
    if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (const auto& [id, job] : jobs_) {
    if (job.state == State::kWaiting || job.state == State::kRetrying) {
      return id + " (" + StateName(job.state) + ", on " + job.tag + ") was never claimed";
    }
  }
  return "";
}

// After every step: the layout, where every job and unique key is, the counts, and every job by
// id.
std::string ShardRun::CheckAlways() {
  auto layout = admin_->Layout(kQueue);  // read anew: admin_'s reads then use this layout
  if (!layout.ok()) return "layout: " + layout.status().ToString();
  if (layout->tags != tags_ || layout->version != version_) {
    return "the layout is v" + std::to_string(layout->version) + " [" + Join(layout->tags) +
           "], the model's v" + std::to_string(version_) + " [" + Join(tags_) + "]";
  }
  if (std::string error = CheckPlacement(); !error.empty()) return error;
  if (std::string error = CheckCounts(); !error.empty()) return error;
  return CheckJobs();
}

// Every job on exactly one shard, its own; nothing else on any shard, dropped ones included; each
// unique key held by its holder only, on the key's shard; every shard at the home's version.
std::string ShardRun::CheckPlacement() {
  const std::vector<std::string> tags(every_tag_.begin(), every_tag_.end());
  std::vector<broker::Command> reads;
  for (const std::string& tag : tags) reads.push_back({"HKEYS", KeysOf(tag).jobs()});
  const std::vector<broker::Reply> ids = Pipeline(reads);
  std::map<std::string, std::vector<std::string>> where;  // id -> the shards holding it
  for (size_t t = 0; t < tags.size(); ++t) {
    for (size_t i = 0; i < ids[t].view().size(); ++i) {
      where[std::string(ids[t].view()[i].str())].push_back(tags[t]);
    }
  }
  for (const auto& [id, held_on] : where) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
      return id + " is on " + Join(held_on) + ", though the model has no such job" +
             (gone_.count(id) > 0 ? " (it was removed)" : "");
    }
    if (held_on.size() > 1) return id + " is on more than one shard: " + Join(held_on);
    if (held_on[0] != it->second.tag) {
      return id + " is on " + held_on[0] + ", placed by layout [" + Join(it->second.layout_tags) +
             "] on " + it->second.tag;
    }
  }
  for (const auto& [id, job] : jobs_) {
    if (where.count(id) == 0) {
      return id + " (" + StateName(job.state) + ") is on no shard; it was on " + job.tag;
    }
    // A shard leaves a layout only empty: every job is on a shard of the layout.
    if (std::find(tags_.begin(), tags_.end(), job.tag) == tags_.end()) {
      return id + " is on " + job.tag + ", which the layout dropped";
    }
  }

  reads.clear();
  for (const std::string& key : kUniqueKeys) {
    for (const std::string& tag : tags) reads.push_back({"GET", KeysOf(tag).base() + "u:" + key});
  }
  const std::vector<broker::Reply> keys = Pipeline(reads);
  for (size_t k = 0; k < kUniqueKeys.size(); ++k) {
    const std::string& key = kUniqueKeys[k];
    std::vector<std::string> held_on, by;
    for (size_t t = 0; t < tags.size(); ++t) {
      const broker::ReplyView value = keys[k * tags.size() + t].view();
      if (value.is_nil()) continue;
      held_on.push_back(tags[t]);
      by.push_back(std::string(value.str()));
    }
    auto holder = holders_.find(key);
    if (holder == holders_.end()) {
      if (!held_on.empty()) {
        return "unique key " + key + " is held on " + Join(held_on) + " by " + Join(by) +
               ", the model has it free";
      }
      continue;
    }
    const std::string key_shard = tags_[static_cast<size_t>(
        PlacementShard({"", key, holder->second}, static_cast<int32_t>(tags_.size())))];
    if (held_on.size() != 1 || by[0] != holder->second || held_on[0] != key_shard ||
        jobs_[holder->second].tag != key_shard) {
      return "unique key " + key + " is held on [" + Join(held_on) + "] by [" + Join(by) +
             "], the model has it held by " + holder->second + " on " + key_shard;
    }
  }

  reads.clear();
  for (const std::string& tag : tags_) reads.push_back({"HGET", KeysOf(tag).meta(), "sv"});
  const std::vector<broker::Reply> versions = Pipeline(reads);
  const std::string want = version_ == 0 ? "(none)" : std::to_string(version_);
  for (size_t t = 0; t < tags_.size(); ++t) {
    const broker::ReplyView sv = versions[t].view();
    const std::string got = sv.is_nil() ? "(none)" : std::string(sv.str());
    if (got != want) return "shard " + tags_[t] + " has version " + got + ", the layout " + want;
  }
  return "";
}

// Counts adds up every shard of the layout, read here key by key, and agrees with the model (a
// job retrying may have been moved to waiting by a claim once due).
std::string ShardRun::CheckCounts() {
  auto counts = admin_->Counts(kQueue);
  if (!counts.ok()) return "counts: " + counts.status().ToString();
  std::vector<broker::Command> reads;
  for (const std::string& tag : tags_) {
    const broker::QueueKeys k = KeysOf(tag);
    reads.push_back({"LLEN", k.wait()});
    reads.push_back({"ZCARD", k.prioritized()});
    reads.push_back({"HGET", k.meta(), "gwaiting"});
    reads.push_back({"ZCARD", k.delayed()});
    reads.push_back({"ZCARD", k.retry()});
    reads.push_back({"ZCARD", k.active()});
    reads.push_back({"ZCARD", k.completed()});
    reads.push_back({"ZCARD", k.dead()});
    reads.push_back({"HGET", k.meta(), "enqueued"});
  }
  const std::vector<broker::Reply> r = Pipeline(reads);
  int64_t waiting = 0, delayed = 0, retrying = 0, active = 0, completed = 0, dead = 0;
  int64_t enqueued = 0, created = 0;
  for (size_t t = 0; t < tags_.size(); ++t) {
    const size_t at = t * 9;
    waiting += r[at].view().AsInt() + r[at + 1].view().AsInt() + r[at + 2].view().AsInt();
    delayed += r[at + 3].view().AsInt();
    retrying += r[at + 4].view().AsInt();
    active += r[at + 5].view().AsInt();
    completed += r[at + 6].view().AsInt();
    dead += r[at + 7].view().AsInt();
    enqueued += r[at + 8].view().AsInt();
    created += created_on_[tags_[t]];
  }
  const QueueCounts& c = *counts;
  auto line = [](int64_t w, int64_t d, int64_t rt, int64_t a, int64_t co, int64_t de, int64_t e) {
    return std::to_string(w) + " waiting, " + std::to_string(d) + " delayed, " +
           std::to_string(rt) + " retrying, " + std::to_string(a) + " active, " +
           std::to_string(co) + " completed, " + std::to_string(de) + " dead, " +
           std::to_string(e) + " enqueued";
  };
  const std::string shown =
      line(c.waiting, c.delayed, c.retrying, c.active, c.completed, c.dead, c.enqueued_total);
  if (c.waiting != waiting || c.delayed != delayed || c.retrying != retrying ||
      c.active != active || c.completed != completed || c.dead != dead ||
      c.enqueued_total != enqueued || c.held != 0) {
    return "counts show " + shown + "; the shards hold " +
           line(waiting, delayed, retrying, active, completed, dead, enqueued);
  }
  const int64_t m_waiting = CountIn(State::kWaiting), m_retrying = CountIn(State::kRetrying);
  if (c.waiting + c.retrying != m_waiting + m_retrying || c.waiting < m_waiting ||
      c.delayed != CountIn(State::kDelayed) || c.active != CountIn(State::kActive) ||
      c.completed != CountIn(State::kCompleted) || c.dead != CountIn(State::kDead) ||
      c.enqueued_total != created) {
    return "counts show " + shown + "; the model has " +
           line(m_waiting, CountIn(State::kDelayed), m_retrying, CountIn(State::kActive),
                CountIn(State::kCompleted), CountIn(State::kDead), created);
  }
  return "";
}

// GetJob finds every job, whichever shard holds it, in the model's state (a retrying one may be
// waiting already); a few ids of removed jobs find nothing.
std::string ShardRun::CheckJobs() {
  // In the order of State.
  static const JobState kAs[] = {JobState::kWaiting, JobState::kDelayed,   JobState::kRetrying,
                                 JobState::kActive,  JobState::kCompleted, JobState::kDead};
  for (const auto& [id, job] : jobs_) {
    auto got = admin_->GetJob(kQueue, id);
    if (!got.ok()) return "get " + id + ": " + got.status().ToString();
    const char* want = StateName(job.state);
    if (!got->has_value()) return "get " + id + " (" + want + ", on " + job.tag + ") found nothing";
    const Job& found = **got;
    const JobState expected = kAs[static_cast<int>(job.state)];
    const bool due_retry = job.state == State::kRetrying && found.state == JobState::kWaiting;
    if ((found.state != expected && !due_retry) || found.id != id || found.queue != kQueue) {
      return "get " + id + " found it " + JobStateName(found.state) + " in " + found.queue +
             ", the model has it " + want + " on " + job.tag;
    }
  }
  int looked = 0;
  for (auto it = gone_.rbegin(); it != gone_.rend() && looked < 5; ++it, ++looked) {
    auto got = admin_->GetJob(kQueue, *it);
    if (!got.ok()) return "get " + *it + ": " + got.status().ToString();
    if (got->has_value()) {
      return "get " + *it + " found it " + JobStateName((*got)->state) + ", though it was removed";
    }
  }
  return "";
}

// The end of an episode: every dead job retried, every delayed one promoted, and every job
// claimed and completed on its shard. Then every job created is completed (or was removed) and
// nothing waits, runs or is dead.
std::string ShardRun::Drain() {
  if (std::string error = Settle(true); !error.empty()) return error;
  for (const auto& [id, job] : jobs_) {
    if (job.state != State::kCompleted) {
      return id + " is " + StateName(job.state) + " after the drain";
    }
  }
  if (std::string error = CheckAlways(); !error.empty()) return error;
  auto counts = admin_->Counts(kQueue);
  if (!counts.ok()) return "counts: " + counts.status().ToString();
  if (counts->waiting + counts->delayed + counts->retrying + counts->active + counts->dead != 0) {
    return "after the drain counts show " + std::to_string(counts->waiting) + " waiting, " +
           std::to_string(counts->delayed) + " delayed, " + std::to_string(counts->retrying) +
           " retrying, " + std::to_string(counts->active) + " active, " +
           std::to_string(counts->dead) + " dead";
  }
  return "";
}

}  // namespace taskq::model
