// RedisBroker, the Broker on Redis: its class, the script-call builder and the reply parsers its
// parts share. Private to src/broker/. Every method is one round trip, and each transition runs
// one script. On a Redis Cluster every call names the slot its keys lie in (all of a queue's keys
// share one), and the few that read several queues go to each queue's master. The methods live
// by what they serve:
//   redis_broker.cc             connection, script loading, the server check, OpenBroker
//   redis_broker_transitions.cc enqueue, claim, complete, fail, postpone, leases, Flush, recovery
//   redis_broker_inspect.cc     reads and operator actions on jobs and queues, events
//   redis_broker_registry.cc    schedules, the worker registry and metrics
//   redis_replies.cc            parsing replies (claims, jobs, state records, schedules)
//   wake_subscription.cc        the wake channels a worker listens on
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/broker.h"
#include "broker/cluster_connection.h"
#include "broker/keys.h"
#include "broker/redis_connection.h"
#include "broker/redis_endpoint.h"
#include "broker/script_keys.h"
#include "broker/scripts.h"
#include "broker/token_text.h"

namespace taskq::broker {

inline constexpr int32_t kMaxClaim = 1000;
inline constexpr int32_t kPromoteLimit = 1000;
inline constexpr size_t kMaxLogLinesPerUpdate = 1000;  // progress.lua's bound on k

// A reply's error as a Status whose message starts with `what`; OK when it is no error.
Status ReplyError(const Reply& reply, std::string_view what);
// The indexes of the script calls of a pipeline that did not run: Redis lacked the script
// (NOSCRIPT), as after a restart or a failover.
std::vector<size_t> NoScriptCalls(const std::vector<Reply>& replies);

// Integer replies as flags, and string replies as strings.
std::vector<bool> ParseFlags(ReplyView v);
std::vector<std::string> ParseStrings(ReplyView v);

// Builds EVALSHA calls; the keys come first, then the arguments.
class ScriptCall {
 public:
  ScriptCall(std::string_view script, const ScriptKeys& keys) {
    const ScriptSource& source = ScriptNamed(script);
    command_.Add("EVALSHA").Add(source.sha1).Add(static_cast<long long>(keys.size()));
    for (const auto& k : keys) command_.Add(k);
  }
  ScriptCall& Arg(std::string_view v) {
    command_.Add(v);
    return *this;
  }
  ScriptCall& Arg(int64_t v) {
    command_.Add(static_cast<long long>(v));
    return *this;
  }
  // A fencing token, as the scripts hold it (token_text.h).
  ScriptCall& Token(int64_t token) {
    command_.Add(TokenText(token));
    return *this;
  }
  Command Take() { return std::move(command_); }

 private:
  Command command_;
};

// Reply parsers (redis_replies.cc).
Result<ClaimResult> ParseClaim(const Reply& reply);

Result<ExtendResult> ParseExtend(const Reply& reply);

Result<std::vector<bool>> ParseFlagsReply(const Reply& reply, std::string_view what,
                                          size_t expected);

std::optional<JobState> StateFromField(std::string_view st);

// Builds a Job from a get_job reply; nullopt when the job does not exist.
Result<std::optional<Job>> ParseJob(const std::string& queue, const std::string& id,
                                    const Reply& reply);

// A schedule's state record "rev:next:runs:last_fire:paused:created:last_job"
// (src/broker/lua/include/schedule_state.lua); false when malformed.
bool ParseScheduleState(std::string_view text, ScheduleRecord* out);

Result<ScheduleSnapshot> ParseScheduleList(const Reply& reply);

class RedisBroker final : public Broker {
 public:
  RedisBroker(RedisEndpoint endpoint, std::string prefix)
      : endpoint_(std::move(endpoint)), prefix_(std::move(prefix)), schedule_keys_(prefix_) {}
  Status CheckServer() override;

  // Priority 0, no delay, no group, not unique: three script arguments per job in enqueue.lua,
  // and a single one goes by enqueue_one.lua.
  static bool IsPlain(const NewJob& job);
  // A job's options argument as enqueue.lua and flow_commit.lua read it (without the unique
  // part): flags, then "priority:delay_ms:run_at_ms[:group]".
  static std::string JobOptionsArg(const NewJob& job);
  // kQueueFull when a script refused a batch with "QUEUEFULL ..." (nothing written), else Ok.
  static Status QueueFullError(const Reply& reply);

  // layout_version: the shard layout the jobs were placed by (0: a queue never sharded).
  static Command EnqueueCall(const QueueKeys& k, std::span<const NewJob> jobs,
                             int64_t layout_version = 0);

  Result<std::vector<EnqueueReply>> Enqueue(const std::string& queue,
                                            std::span<const NewJob> jobs) override;
  std::vector<Result<EnqueueReply>> EnqueueEach(const std::string& queue,
                                                std::span<const NewJob> jobs) override;
  int32_t PlacementShards(const std::string& queue) override {
    return PlacementLayout(queue).shards();
  }

  // Enqueue without waiting for the replicas: an import waits once, after its last batch.
  Result<std::vector<EnqueueReply>> EnqueueOnMaster(const std::string& queue,
                                                    std::span<const NewJob> jobs);

  // The jobs placed on the queue's shards (redis_broker_shards.cc), each shard's part one atomic
  // enqueue.lua call, all parts in one round trip; a part refused for an older layout is placed
  // again by the layout read anew. Adds the slots written to `written` (may be null). With
  // `failed_jobs` (jobs.size() statuses, all OK), a part that fails sets its jobs' statuses
  // instead of failing the call: the reply is then meaningful only for the jobs left OK.
  Result<std::vector<EnqueueReply>> EnqueuePlaced(const std::string& queue,
                                                  std::span<const NewJob> jobs,
                                                  std::vector<uint16_t>* written,
                                                  std::vector<Status>* failed_jobs = nullptr);

  // One shard's part, as one atomic step (enqueue_one.lua for a single plain job).
  Result<std::vector<EnqueueReply>> EnqueueOnShard(const std::string& tag,
                                                   std::span<const NewJob> jobs,
                                                   int64_t layout_version);

  // kUnavailable with kLayoutChanged when a script refused a producer's layout ("LAYOUT <sv>",
  // nothing written), else Ok.
  static Status LayoutRefusal(const Reply& reply);
  static constexpr std::string_view kLayoutChanged = "the queue's shard layout changed";

  static Result<std::vector<EnqueueReply>> ParseEnqueueReply(const Reply& reply, size_t jobs);

  Status EnqueueBatches(const NextBatch& next, const BatchDone& done) override;

  // With ?wait_replicas=N an enqueue is acknowledged only once N replicas have it (WAIT also
  // covers an existing job: what the caller saw must survive a failover too). Otherwise the jobs
  // are written on the master but the caller hears Unavailable: retrying may enqueue them twice
  // (at least once), never lose them. `slots`: where the writes went (on a cluster, WAIT runs on
  // each of their masters, on the connection that wrote).
  Status WaitForReplicas(std::span<const uint16_t> slots);

  Result<ClaimResult> Claim(const std::string& queue, int32_t max_jobs,
                            std::chrono::milliseconds lease) override;

  Result<std::vector<bool>> Complete(const std::string& queue,
                                     std::span<const Completion> completions,
                                     const FinishPolicy& policy) override;

  Result<std::vector<bool>> Fail(const std::string& queue, std::span<const Failure> failures,
                                 const FinishPolicy& policy) override;

  Result<std::vector<bool>> Postpone(const std::string& queue,
                                     std::span<const Postponement> postponements,
                                     int32_t max_log_lines) override;

  Result<ExtendResult> ExtendLeases(const std::string& queue, std::span<const Lease> leases,
                                    std::chrono::milliseconds lease) override;

  Result<FlushResult> Flush(const std::string& queue, const FlushRequest& request) override;

  Result<RecoverResult> RecoverExpired(const std::string& queue, int32_t max_stalls, int32_t limit,
                                       const FinishPolicy& policy) override;

  Result<int64_t> Release(const std::string& queue, std::span<const Lease> leases) override;

  Result<int64_t> ReleaseLostClaim(const std::string& queue, const std::string& receipt) override;

  Result<bool> Promote(const std::string& queue, const std::string& id) override;

  Result<RemoveOutcome> Remove(const std::string& queue, const std::string& id,
                               RemoveMode mode) override;

  Result<FlowCommitOutcome> CommitFlow(const std::string& queue, const FlowCommit& commit) override;
  Result<BatchCommitOutcome> CommitBatch(const std::string& queue,
                                         const BatchCommit& commit) override;
  Result<BatchCloseOutcome> CloseBatch(const std::string& queue,
                                       const std::string& batch_key) override;
  Result<BatchCancelOutcome> CancelBatch(const std::string& queue,
                                         const std::string& batch_key) override;
  Result<std::optional<BatchView>> ReadBatch(const std::string& queue,
                                             const std::string& batch_key) override;
  Result<std::optional<FlowView>> ReadFlow(const std::string& queue,
                                           const std::string& flow_key) override;
  Result<std::vector<FlowChild>> FlowChildren(const std::string& queue, const std::string& flow_key,
                                              const std::string& parent_ref) override;

  Result<int64_t> RetryDead(const std::string& queue, std::span<const std::string> ids,
                            int32_t limit) override;

  Result<bool> SetPaused(const std::string& queue, bool paused) override;
  Result<QueueLayout> Layout(const std::string& queue) override;
  Result<QueueLayout> SetShards(const std::string& queue, int32_t shards) override;
  Result<QueueShards> CountsByShard(const std::string& queue) override;
  Result<int64_t> BalanceShares(const QueueLayout& layout) override;
  Result<std::vector<std::string>> ClusterMasters() override;
  Result<int64_t> SetAllPaused(bool paused) override;

  Status SetLimits(const std::string& queue, const QueueLimits& limits) override;

  Result<QueueLimits> GetLimits(const std::string& queue) override;

  Result<int64_t> Clean(const std::string& queue, JobState state,
                        std::chrono::milliseconds older_than, int32_t limit) override;

  Result<std::optional<Job>> GetJob(const std::string& queue, const std::string& id) override;

  static constexpr int kGroupsForOldest = 8;  // ring turns read for the oldest waiting job

  Result<QueueCounts> Counts(const std::string& queue) override;

  Result<JobListing> ListJobs(const std::string& queue, JobState state, const JobCursor& from,
                              int64_t limit, ListOrder order) override;

  Result<std::vector<std::string>> Queues() override;

  Result<std::vector<JobEvent>> ReadEvents(std::span<EventCursor> cursors,
                                           std::chrono::milliseconds block,
                                           int32_t max_events) override;

  Status RegisterQueue(const std::string& queue) override;

  Status WorkerHeartbeat(const std::string& worker_id, const std::string& info_json,
                         std::chrono::milliseconds sweep_after) override;

  Result<ScheduleSaveResult> SaveSchedule(const ScheduleSave& save) override;

  Result<bool> RemoveSchedule(const std::string& id) override;

  Result<ScheduleSnapshot> ListSchedules() override { return RunScheduleList("all", 1, {}); }
  Result<ScheduleSnapshot> GetSchedules(std::span<const std::string> ids) override;

  Result<ScheduleSnapshot> DueSchedules(int32_t limit) override;

  Result<bool> SetSchedulePaused(const std::string& id, bool paused, int64_t next_fire_ms) override;

  Result<bool> AdvanceSchedule(const ScheduleAdvance& a) override;

  Result<std::vector<OutboxEntry>> TakeOutbox(const std::string& queue, const std::string& token,
                                              std::chrono::milliseconds lease,
                                              int32_t max) override;
  Result<int64_t> ApplyFlowEntries(const std::string& target, const std::string& source,
                                   std::span<const OutboxEntry> entries) override;
  // The states of a flow's jobs that were dispatched to other queues (job_states.lua).
  Status ReadRemoteStates(std::vector<FlowNode>& nodes);
  Result<int64_t> AckOutbox(const std::string& queue, const std::string& token,
                            std::span<const std::string> entry_ids) override;
  Result<bool> HoldSchedulerLease(const std::string& token,
                                  std::chrono::milliseconds lease) override;

  Status AddMetrics(
      const std::vector<std::pair<std::string, CounterIncrements>>& per_queue) override;

  Result<CounterIncrements> ReadMetrics(const std::string& queue) override;
  Result<HistoryRecordResult> RecordHistory(const std::string& queue,
                                            std::chrono::milliseconds bucket,
                                            int32_t keep) override;
  Result<HistorySamples> ReadHistory(const std::string& queue, int32_t max) override;

  Result<WorkerList> ListWorkers(std::chrono::milliseconds max_age) override;

 private:
  const QueueKeys& Keys(const std::string& queue);

  Result<ScheduleSnapshot> RunScheduleList(std::string_view what, int32_t limit,
                                           std::span<const std::string> ids);

  Command GetJobCommand(const QueueKeys& k, const std::string& id);

  // A part of a listing: `size` ids, read by index range (first and last within the part).
  struct ListPart {
    int64_t size = 0;
    std::function<Command(int64_t first, int64_t last)> range;
    bool backwards = false;  // the range reads the part's ids in the opposite order
  };

  // The waiting ids from `offset` (at most `limit`), as ListJobs orders them. Every part is an
  // index range: O(log n + page) on a zset, O(distance from the nearer end + page) on the wait
  // list, so a page costs the same near either end of a state of a million jobs.
  Result<std::vector<std::string>> WaitingIds(const QueueKeys& k, int64_t offset, int64_t limit,
                                              bool reversed);
  // The ids of a state kept in a sorted set (state_page.lua) from `from`, and the cursor after
  // each: O(log n + page) wherever the page lies.
  Status SortedStateIds(const QueueKeys& k, JobState state, const JobCursor& from, int64_t limit,
                        bool reversed, std::vector<std::string>* ids,
                        std::vector<JobCursor>* after);

  // Reads positions [offset, offset + limit) of the parts laid end to end, in one round trip.
  Result<std::vector<std::string>> ReadParts(uint16_t slot, const std::vector<ListPart>& parts,
                                             int64_t offset, int64_t limit);

  Status EnsureConnected();

  // The layout producers place jobs by: as last read, else the one of a queue never sharded
  // (read only after a script refused it, since every shard of a changed layout refuses an
  // older one). Reads by id and counts use one at most kLayoutKept old (LayoutForReads).
  const QueueLayout& PlacementLayout(const std::string& queue);
  void ForgetLayout(const std::string& queue) { layouts_.erase(queue); }
  Result<QueueLayout> LayoutForReads(const std::string& queue);
  static constexpr std::chrono::seconds kLayoutKept{5};

  // As RunScripts, call i's keys lying in slots[i].
  Status RunScriptsAcross(std::span<const uint16_t> slots, std::span<const Command> commands,
                          std::vector<Reply>* replies);
  // As RunScriptsAcross, each call answered alone (RunCommandsAcrossEach).
  void RunScriptsAcrossEach(std::span<const uint16_t> slots, std::span<const Command> commands,
                            std::vector<Result<Reply>>* replies);

  // The counts of each shard (`tags` their hash tags, in their order): every shard's counting
  // commands in one round trip, then, for all shards at once, one to find the heads of the
  // groups next on the ring (only when grouped jobs wait) and one to read the heads' created
  // times (only when jobs wait). The same for one shard and for many.
  // With `versions`, each shard's layout version (meta.sv; 0: none) is added to it.
  Result<std::vector<QueueCounts>> CountShards(std::span<const std::string> tags,
                                               std::vector<int64_t>* versions = nullptr);
  // Makes a shard_layout.lua call: (tag, mode, role, expected, version, N, tags).
  using LayoutCallMaker =
      std::function<Command(const std::string&, std::string_view, std::string_view, int64_t,
                            int64_t, int32_t, const std::string&)>;
  // SetShards to the number the queue has: brings every shard of `layout` to one version when
  // an interrupted change left them apart; the layout as it is then.
  Result<QueueLayout> RepairLayout(const QueueLayout& layout, const std::string& layout_tags,
                                   const LayoutCallMaker& layout_call);
  // ListJobs on a queue of several shards (redis_broker_shards.cc).
  Result<JobListing> ListShardedJobs(const std::string& queue, const QueueLayout& layout,
                                     JobState state, const JobCursor& from, int64_t limit,
                                     ListOrder order);
  // RecordHistory and ReadHistory of one shard (`tag` its hash tag).
  Result<HistoryRecordResult> RecordShardHistory(const std::string& tag,
                                                 std::chrono::milliseconds bucket, int32_t keep);
  Result<HistorySamples> ReadShardHistory(const std::string& tag, int32_t max);
  // queue_limits.lua on one shard; share_of_version >= 0: the limits are that shard's share of
  // a sharded queue's, made for that layout version, with the queue's whole concurrency and
  // the limits' generation (share_move.lua).
  struct ShareOf {
    int64_t layout_version = -1;
    int64_t token = 0;  // the setter's mover token (share_move.lua)
    int64_t total_concurrency = 0;
    std::string generation;
  };
  static Command QueueLimitsCall(const QueueKeys& k, const QueueLimits& limits,
                                 const ShareOf* share);
  // SetLimits on a queue of several shards.
  Status SetShardedLimits(const QueueLayout& layout, const QueueLimits& limits);
  // share_move.lua on one shard (BalanceShares, redis_broker_balance.cc).
  Command ShareMoveCall(const std::string& tag, int64_t layout_version, std::string_view mode,
                        int64_t token, std::string_view generation, int64_t amount);
  // A shard's concurrency share as share_move.lua reads it.
  struct ShardShare {
    int64_t share = 0;
    int64_t active = 0;
    int64_t waiting = 0;
    std::string generation;
    int64_t total = 0;
  };
  // Takes a balance token (*token) and reads every shard's share, fencing out older balances;
  // nullopt when a newer balance read some shard first.
  Result<std::optional<std::vector<ShardShare>>> ReadShares(const QueueLayout& layout,
                                                            int64_t* token);
  // The slots the shards hold: each its share (shares[i]) or the jobs it runs, whichever is
  // more (a shard running beyond its share holds those slots until its jobs end).
  static int64_t Occupied(const std::vector<int64_t>& shares,
                          const std::vector<ShardShare>& shards);
  // What to add to each share (`shares`, the shards' jobs active in `shards`) toward `targets`,
  // within `total` counting each shard as its share or what it runs, whichever is more; what
  // the targets leave goes to the shard with the most `demand`.
  static std::vector<int64_t> RaisesWithin(int64_t total, const std::vector<int64_t>& targets,
                                           const std::vector<int64_t>& shares,
                                           const std::vector<ShardShare>& shards,
                                           const std::vector<int64_t>& demand);
  // The shares come from one setting of the limits, with a concurrency.
  static bool SharesOfOneSetting(const std::vector<ShardShare>& shards);
  // The shares SetLimits aims at for `concurrency`, from the shares read: the current ones when
  // it is unchanged, else targets by each shard's work (share_targets.h).
  static std::vector<int64_t> ConcurrencyTargets(const std::vector<ShardShare>& shards,
                                                 int64_t concurrency);
  // A new mover token from the home shard's meta.cbn (share_move.lua).
  Result<int64_t> TakeMoverToken(const QueueLayout& layout);
  // share_move.lua take of raise[i] on each shard i with raise[i] > 0, in one round trip;
  // returns what went through (a refused raise is handed out by a later balance).
  int64_t RaiseShares(const QueueLayout& layout, int64_t token, const std::string& generation,
                      const std::vector<int64_t>& raise);
  // One attempt of SetShardedLimits: false when a newer mover refused it (nothing lost: try
  // again).
  Result<bool> WriteShardedLimits(const QueueLayout& layout, const QueueLimits& limits);
  // Completed and dead jobs list newest first; the other sorted states by time to come.
  static bool NewestFirst(JobState state);
  // ReadEvents over cursors each of one shard's stream (`queue` a shard's tag).
  Result<std::vector<JobEvent>> ReadShardEvents(std::span<EventCursor> cursors,
                                                std::chrono::milliseconds block,
                                                int32_t max_events);

  // The shard (index into layout.tags) holding each id, -1 for none: one read per shard, all in
  // one round trip (none for a layout of one shard).
  Result<std::vector<int32_t>> ShardsOfJobs(const QueueLayout& layout,
                                            std::span<const std::string> ids);
  // The tag of the shard holding the job; the home shard's when no shard does.
  Result<std::string> ShardOfJob(const std::string& queue, const std::string& id);

  // Runs commands in one round trip. Their keys lie in `slot`: on a cluster, the master serving
  // it runs them (one Redis ignores the slot).
  Status RunCommands(uint16_t slot, std::span<const Command> commands, std::vector<Reply>* replies);

  // As RunCommands, command i's keys lying in slots[i] (reads and counters over several queues).
  Status RunCommandsAcross(std::span<const uint16_t> slots, std::span<const Command> commands,
                           std::vector<Reply>* replies);
  // As RunCommandsAcross, each command answered alone: on a cluster, a master that cannot be
  // reached fails only the commands that went to it.
  void RunCommandsAcrossEach(std::span<const uint16_t> slots, std::span<const Command> commands,
                             std::vector<Result<Reply>>* replies);

  Result<Reply> Run(uint16_t slot, const Command& command);

  // Runs script calls in one round trip. Redis forgets scripts on restart (and SCRIPT FLUSH,
  // and a replica promoted by a failover never had them): a NOSCRIPT reply means that call did
  // not run, so the scripts are loaded (on every master of a cluster) and those calls alone run
  // again, in their order.
  Status RunScripts(uint16_t slot, std::span<const Command> commands, std::vector<Reply>* replies);

  Result<Reply> RunScript(uint16_t slot, Command command);

  Result<int64_t> RunIntScript(uint16_t slot, Command command, std::string_view what);

  Status LoadScripts();

  // The XREAD replies for the cursors (each a list of [stream, entries]). One XREAD on one
  // Redis; on a cluster one per queue (a command cannot span slots), polled every
  // kClusterEventPoll while `block` lasts when there are several (a blocking XREAD holds one
  // node only).
  Status ReadStreams(std::span<const EventCursor> cursors, std::chrono::milliseconds block,
                     int32_t max_events, std::vector<Reply>* replies);
  static constexpr std::chrono::milliseconds kClusterEventPoll{100};

  const RedisEndpoint endpoint_;
  const std::string prefix_;
  const ScheduleKeys schedule_keys_;
  std::unique_ptr<RedisConnection> connection_;  // one Redis, or through Sentinel
  std::unique_ptr<ClusterConnection> cluster_;   // a Redis Cluster (endpoint_.via_cluster())
  std::unordered_map<std::string, QueueKeys> keys_;
  // Queues whose single plain jobs enqueue_one.lua handed to enqueue.lua, until when to skip it.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> general_enqueue_until_;
  struct KnownLayout {
    QueueLayout layout;
    std::optional<std::chrono::steady_clock::time_point> read_at;  // nullopt: assumed, not read
  };
  std::unordered_map<std::string, KnownLayout> layouts_;
};

}  // namespace taskq::broker
