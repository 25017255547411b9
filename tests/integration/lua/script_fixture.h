// Fixture for the per-script tests: one redis-server for the whole binary, flushed before each
// test; helpers to run a script by name, seed keys and read them back.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/keys.h"
#include "broker/redis_connection.h"
#include "broker/script_keys.h"
#include "broker/scripts.h"
#include "broker/state_record.h"
#include "broker/token_text.h"
#include "testing/redis_server.h"

namespace taskq::testing {

// An entry of a queue's outbox (lua/include/hooks.lua).
struct OutboxEntry {
  std::string id;
  std::map<std::string, std::string> fields;
};

class ScriptTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!server_) server_ = std::make_unique<RedisServer>();
  }
  void SetUp() override { server_->Run(broker::Command{"FLUSHALL"}); }

  // "taskq:{q}:"
  const broker::QueueKeys& q() const { return keys_; }
  const std::string& base() const { return keys_.base(); }

  // The KEYS of each script, as the broker passes them (broker/script_keys.h).
  broker::ScriptKeys EnqueueKeys() const { return broker::EnqueueKeys(q()); }
  broker::ScriptKeys EnqueueOneKeys() const { return broker::EnqueueOneKeys(q()); }
  broker::ScriptKeys ClaimKeys() const { return broker::ClaimKeys(q()); }
  broker::ScriptKeys QueueLimitsKeys() const { return broker::QueueLimitsKeys(q()); }
  broker::ScriptKeys CompleteKeys() const { return broker::CompleteKeys(q()); }
  broker::ScriptKeys FailKeys() const { return broker::FailKeys(q()); }
  broker::ScriptKeys PostponeKeys() const { return broker::PostponeKeys(q()); }
  broker::ScriptKeys ExtendKeys() const { return broker::ExtendKeys(q()); }
  broker::ScriptKeys OverrunKeys() const { return broker::OverrunKeys(q()); }
  broker::ScriptKeys RecoverKeys() const { return broker::RecoverKeys(q()); }
  broker::ScriptKeys ReleaseKeys() const { return broker::ReleaseKeys(q()); }
  broker::ScriptKeys LostClaimKeys() const { return broker::LostClaimKeys(q()); }
  broker::ScriptKeys PromoteKeys() const { return broker::PromoteKeys(q()); }
  broker::ScriptKeys RemoveKeys() const { return broker::RemoveKeys(q()); }
  broker::ScriptKeys RetryDeadKeys() const { return broker::RetryDeadKeys(q()); }
  broker::ScriptKeys PauseKeys() const { return broker::PauseKeys(q()); }
  broker::ScriptKeys ShardLayoutKeys() const { return broker::ShardLayoutKeys(q()); }
  broker::ScriptKeys ShareMoveKeys() const { return broker::ShareMoveKeys(q()); }
  broker::ScriptKeys ProgressKeys() const { return broker::ProgressKeys(q()); }
  broker::ScriptKeys GetJobKeys() const { return broker::GetJobKeys(q()); }
  broker::ScriptKeys GroupPageKeys() const { return broker::GroupPageKeys(q()); }
  // Sets the queue's limits through queue_limits.lua (0: no such limit; "" no group field).
  void SetLimits(long long rate_max, long long window_ms, long long concurrency,
                 long long group_max = 0, long long group_window_ms = 1000,
                 long long group_concurrency = 0, const std::string& group_field = "",
                 long long aging_ms = 0, long long max_length = 0) {
    auto reply = Eval("queue_limits", QueueLimitsKeys(),
                      {base(), std::to_string(rate_max), std::to_string(window_ms),
                       std::to_string(concurrency), std::to_string(group_max),
                       std::to_string(group_window_ms), std::to_string(group_concurrency),
                       group_field, std::to_string(aging_ms), std::to_string(max_length)});
    ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  }
  broker::Reply Eval(std::string_view script, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args) {
    const broker::ScriptSource& source = broker::ScriptNamed(script);
    broker::Command command{"EVAL", source.body};
    command.Add(static_cast<long long>(keys.size()));
    for (const auto& k : keys) command.Add(k);
    for (const auto& a : args) command.Add(a);
    return server_->Run(command);
  }

  broker::Reply Run(const broker::Command& command) { return server_->Run(command); }
  std::string Get(const std::string& key) { return std::string(Run({"GET", key}).view().str()); }
  std::string HGet(const std::string& key, const std::string& field) {
    return std::string(Run({"HGET", key, field}).view().str());
  }
  bool Exists(const std::string& key) { return Run({"EXISTS", key}).view().integer() == 1; }
  long long HLen(const std::string& key) { return Run({"HLEN", key}).view().integer(); }
  bool HExists(const std::string& key, const std::string& field) {
    return Run({"HEXISTS", key, field}).view().integer() == 1;
  }
  // A hash field, nullopt when it is absent.
  std::optional<std::string> HField(const std::string& key, const std::string& field) {
    auto reply = Run({"HGET", key, field});
    if (reply.view().is_nil()) return std::nullopt;
    return std::string(reply.view().str());
  }

  std::vector<std::string> Strings(const broker::Command& command) {
    broker::Reply reply = Run(command);
    std::vector<std::string> out;
    for (size_t i = 0; i < reply.view().size(); ++i) {
      out.emplace_back(reply.view()[i].str());
    }
    return out;
  }
  std::vector<std::string> List(const std::string& key) {
    return Strings({"LRANGE", key, "0", "-1"});
  }
  std::vector<std::string> ZMembers(const std::string& key) {
    return Strings({"ZRANGE", key, "0", "-1"});
  }
  double ZScore(const std::string& key, const std::string& member) {
    auto reply = Run({"ZSCORE", key, member});
    return reply.view().is_nil() ? -1 : std::stod(std::string(reply.view().str()));
  }
  long long Now() {
    auto t = Run({"TIME"});
    return std::stoll(std::string(t.view()[0].str())) * 1000 +
           std::stoll(std::string(t.view()[1].str())) / 1000;
  }
  // Every key in the database, for "nothing was written" assertions.
  std::vector<std::string> AllKeys() {
    auto keys = Strings({"KEYS", "*"});
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  // Integers of an array reply.
  static std::vector<long long> Ints(const broker::Reply& reply) {
    std::vector<long long> out;
    for (size_t i = 0; i < reply.view().size(); ++i) out.push_back(reply.view()[i].AsInt());
    return out;
  }

  // --- The state record: field <id> of the queue's state hash, "st:a:s:ts:tf:p:tk:cx" (see
  // src/broker/lua/include/state.lua).
  static constexpr std::array<std::string_view, 8> kStateFields = {"st", "a", "s",  "ts",
                                                                   "tf", "p", "tk", "cx"};
  // The record as the scripts write it; nullopt when the job has none.
  std::optional<std::string> StateRecord(const std::string& id) { return HField(q().state(), id); }
  bool HasState(const std::string& id) { return HExists(q().state(), id); }

  // --- Bodies (hash `jobs`), field <id>.
  bool HasBody(const std::string& id) { return HExists(q().jobs(), id); }
  std::string BodyOf(const std::string& id) { return HGet(q().jobs(), id); }
  void SeedBody(const std::string& id, const std::string& body) {
    Run({"HSET", q().jobs(), id, body});
  }
  // A record split into its named fields. Fails the test when the record is not in the format the
  // scripts' decode_state accepts (a record the scripts could not read back).
  static std::map<std::string, std::string> ParseState(std::string_view record) {
    const std::optional<broker::StateRecord> r = broker::ParseStateRecord(record);
    if (!r) {
      ADD_FAILURE() << "malformed state record \"" << record << "\"";
      return {};
    }
    return {{"st", r->state},
            {"a", std::to_string(r->attempts)},
            {"s", std::to_string(r->stalls)},
            {"ts", std::to_string(r->started_ms)},
            {"tf", std::to_string(r->finished_ms)},
            {"p", std::to_string(r->priority)},
            {"tk", r->token},
            {"cx", r->cancel_requested ? "1" : "0"}};
  }
  // The record of a job, parsed. Fails the test (and gives an empty record) when it has none or
  // it is malformed.
  broker::StateRecord StateOf(const std::string& id) {
    auto record = StateRecord(id);
    if (!record) {
      ADD_FAILURE() << "job " << id << " has no state record";
      return {};
    }
    auto parsed = broker::ParseStateRecord(*record);
    if (!parsed) ADD_FAILURE() << "malformed state record \"" << *record << "\"";
    return parsed.value_or(broker::StateRecord{});
  }
  // The record of a job as named fields; empty when it has none.
  std::map<std::string, std::string> StateFields(const std::string& id) {
    auto record = StateRecord(id);
    if (!record) return {};
    return ParseState(*record);
  }
  // A record from named fields; a field not given is "" (st, tk) or 0 (the numbers).
  static std::string EncodeState(const std::map<std::string, std::string>& fields) {
    std::string out;
    for (std::string_view name : kStateFields) {
      if (name != kStateFields[0]) out += ':';
      auto it = fields.find(std::string(name));
      if (it != fields.end()) {
        out += it->second;
      } else if (name != "st" && name != "tk") {
        out += '0';
      }
    }
    return out;
  }
  // Writes a record: the given fields, the others at their defaults (st "", tk "", numbers 0).
  void SeedState(const std::string& id, const std::map<std::string, std::string>& fields) {
    Run({"HSET", q().state(), id, EncodeState(fields)});
  }
  // Changes some fields of an existing record.
  void PatchState(const std::string& id, const std::map<std::string, std::string>& changes) {
    auto fields = StateFields(id);
    ASSERT_FALSE(fields.empty()) << id << " has no state record";
    for (const auto& [name, value] : changes) fields[name] = value;
    SeedState(id, fields);
  }

  // --- Results (hash `result`) and progress (hash `progress`), field <id>.
  std::optional<std::string> ResultOf(const std::string& id) { return HField(q().results(), id); }
  bool HasResult(const std::string& id) { return HExists(q().results(), id); }
  std::optional<std::string> ProgressOf(const std::string& id) {
    return HField(q().progress(), id);
  }
  bool HasProgress(const std::string& id) { return HExists(q().progress(), id); }

  // A log line as job_lists.lua appends it: the job is then listed in the set x.
  void SeedLogLine(const std::string& id, const std::string& line) {
    Run({"RPUSH", q().job_logs(id), line});
    Run({"SADD", q().with_lists(), id});
  }

  // No trace of the job is left: no body, errors or logs key, no state, result or progress field,
  // no entry in the set of jobs with lists.
  // (Its membership in the queue's lists and sorted sets is the caller's to check.)
  void ExpectNoTrace(const std::string& id) {
    for (const auto& key : {q().job_errors(id), q().job_logs(id)}) {
      EXPECT_FALSE(Exists(key)) << key;
    }
    EXPECT_FALSE(HasBody(id)) << id;
    EXPECT_FALSE(HExists(base() + "g", id)) << id;  // a grouped job's group
    EXPECT_FALSE(HasState(id)) << id;
    EXPECT_FALSE(HasResult(id)) << id;
    EXPECT_FALSE(HasProgress(id)) << id;
    EXPECT_EQ(Run({"SISMEMBER", q().with_lists(), id}).view().AsInt(), 0) << id;
  }

  // enqueue.lua's per-job options argument: "" for a plain job, else "priority:delay:run_at",
  // with ":group" for a grouped one.
  static std::string EnqueueOptionsArg(const std::string& priority, const std::string& delay,
                                       const std::string& run_at, const std::string& group = "") {
    if (priority == "0" && delay == "0" && run_at == "-1" && group.empty()) return "";
    return priority + ":" + delay + ":" + run_at + (group.empty() ? "" : ":" + group);
  }
  // Seeds a job through the real enqueue script.
  void Enqueue(const std::string& id, int priority = 0, long long delay_ms = 0,
               const std::string& group = "") {
    auto reply =
        Eval("enqueue", EnqueueKeys(),
             {base(), "1", id, R"({"t":"email","d":{}})",
              EnqueueOptionsArg(std::to_string(priority), std::to_string(delay_ms), "-1", group)});
    ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  }
  // The elements of a get_job reply (get_job.lua).
  enum GetJobElement : size_t {
    kBody = 0,
    kState = 1,
    kResult = 2,
    kProgress = 3,
    kErrors = 4,
    kLogs = 5,
    kDelayedDue = 6,
    kRetryDue = 7,
    kGroup = 8,
    kOverrunMark = 9,
  };
  // Claims through the real claim script; returns the claim reply.
  broker::Reply Claim(int n, long long lease_ms = 30000) {
    return Eval("claim", ClaimKeys(),
                {base(), std::to_string(n), std::to_string(lease_ms), "1000"});
  }
  // Fields of a claim reply {now, paused, more, next due, count, token, (id, body, attempt)...}
  // (claim.lua): paused (1/0), jobs claimed, "more may wait", ms until something is due (-1 none).
  static long long PausedOf(const broker::Reply& claim) { return claim.view()[1].AsInt(); }
  static long long CountOf(const broker::Reply& claim) { return claim.view()[4].AsInt(); }
  static long long MoreOf(const broker::Reply& claim) { return claim.view()[2].AsInt(); }
  static long long NextDueOf(const broker::Reply& claim) { return claim.view()[3].AsInt(); }
  // The body the index-th claimed job came with.
  static std::string ClaimedBodyOf(const broker::Reply& claim, size_t index) {
    return std::string(claim.view()[6 + 3 * index + 1].str());
  }
  // ids of a claim reply, in order
  static std::vector<std::string> ClaimedIds(const broker::Reply& reply) {
    std::vector<std::string> ids;
    for (size_t i = 6; i < reply.view().size(); i += 3) {
      ids.emplace_back(reply.view()[i].str());
    }
    return ids;
  }
  // The token of the index-th job of a claim reply: the jobs claimed in one call share it (the
  // reply carries it once), so compare tokens only across separate claims.
  static std::string TokenOf(const broker::Reply& claim, size_t index) {
    EXPECT_LT(index, static_cast<size_t>(CountOf(claim)));
    return std::string(claim.view()[5].str());
  }
  // Claims up to `n` waiting jobs; returns id -> token.
  std::map<std::string, std::string> ClaimTokens(int n = 100) {
    auto claim = Claim(n);
    std::map<std::string, std::string> tokens;
    auto ids = ClaimedIds(claim);
    for (size_t i = 0; i < ids.size(); ++i) tokens[ids[i]] = TokenOf(claim, i);
    return tokens;
  }
  static long long AttemptOf(const broker::Reply& claim, size_t index) {
    return std::abs(claim.view()[6 + 3 * index + 2].AsInt());
  }
  // Whether claim flagged the job as restarted (a negated attempt): it started before without
  // using up the attempt.
  static bool RestartedOf(const broker::Reply& claim, size_t index) {
    return claim.view()[6 + 3 * index + 2].AsInt() < 0;
  }
  // The value a token's text names (base 36: token_text.h); -1 for a text no token has.
  static long long TokenValue(const std::string& token) {
    return broker::ParseTokenText(token).value_or(-1);
  }
  // A token the job does not hold, for the stale-token paths: one less than its current one (tokens
  // only grow, so no later claim hands it out).
  static std::string StaleToken(const std::string& token) {
    return broker::TokenText(TokenValue(token) - 1);
  }
  // Finishes a claimed job through the real complete / fail scripts (no retention: every finished
  // job is kept). retry_delay_ms -1 sends the job to dead.
  void CompleteJob(const std::string& id, const std::string& token,
                   const std::string& result = "null") {
    auto reply = Eval("complete", CompleteKeys(), {base(), "1", "-1", "0", id, token, result});
    ASSERT_EQ(Ints(reply), (std::vector<long long>{1})) << reply.view().str();
  }
  void FailJob(const std::string& id, const std::string& token, long long retry_delay_ms,
               const std::string& message = "boom") {
    auto reply = Eval("fail", FailKeys(),
                      {base(), "1", "100", "-1", "0", id, token, std::to_string(retry_delay_ms),
                       R"({"message":")" + message + R"("})"});
    ASSERT_EQ(Ints(reply).size(), 1u) << reply.view().str();
    ASSERT_NE(Ints(reply)[0], 0);
  }

  // Every key with its value as text (hash fields, list items, zset members with scores), for
  // "nothing changed" assertions.
  std::map<std::string, std::vector<std::string>> Snapshot() {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& key : AllKeys()) {
      std::string type(Run({"TYPE", key}).view().str());
      std::vector<std::string>& value = out[key];
      if (type == "string") {
        value = {Get(key)};
      } else if (type == "hash") {
        value = Strings({"HGETALL", key});
      } else if (type == "list") {
        value = List(key);
      } else if (type == "zset") {
        value = Strings({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      } else {
        value = Strings({"SMEMBERS", key});
      }
    }
    return out;
  }

  // A subscription to the queue's wake channel (sharded pub/sub), for CountWakes.
  std::unique_ptr<broker::RedisConnection> ListenForWakes() {
    auto subscriber = server_->Connect();
    EXPECT_TRUE(subscriber->Send({"SSUBSCRIBE", q().wake_channel()}).ok());
    EXPECT_TRUE(subscriber->Receive().ok());  // confirmation
    return subscriber;
  }
  // The wakes published since the subscription or the previous call. Publishes a marker and reads
  // up to it, so that "no wake" is observed without waiting for a timeout.
  int CountWakes(broker::RedisConnection& subscriber) {
    Run({"SPUBLISH", q().wake_channel(), "marker"});
    int wakes = 0;
    for (;;) {
      auto message = subscriber.Receive();
      if (!message.ok()) {
        ADD_FAILURE() << message.status().ToString();
        return -1;
      }
      if (message->view()[2].str() == "marker") return wakes;
      ++wakes;
    }
  }

  // The entries of a queue's outbox, oldest first.
  std::vector<OutboxEntry> OutboxOf(const broker::QueueKeys& keys) {
    std::vector<OutboxEntry> out;
    auto reply = Run({"XRANGE", keys.outbox(), "-", "+"});
    for (size_t i = 0; i < reply.view().size(); ++i) {
      OutboxEntry& e = out.emplace_back();
      e.id = std::string(reply.view()[i][0].str());
      const auto fields = reply.view()[i][1];
      for (size_t f = 0; f + 1 < fields.size(); f += 2) {
        e.fields[std::string(fields[f].str())] = std::string(fields[f + 1].str());
      }
    }
    return out;
  }

  // Scripts and helpers act on this queue from here on (the steps of a flow across queues).
  void UseQueue(std::string_view queue) { keys_ = broker::QueueKeys("taskq", queue); }

  static std::unique_ptr<RedisServer> server_;  // destroyed (killed) at exit
  broker::QueueKeys keys_{"taskq", "q"};
};

}  // namespace taskq::testing
