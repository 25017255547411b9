// The loop of one queue in a worker process: claims jobs into free slots, hands them to the
// handler threads, and sends their results, lease renewals, progress and new claims to Redis
// together, in one pipelined round trip per iteration. Results that finish while a round trip is
// in flight are sent together in the next one, so batches grow with load on their own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "broker/broker.h"
#include "worker/handler_process_pool.h"
#include "worker/handler_registry.h"
#include "worker/idle_wait.h"
#include "worker/job_timings.h"
#include "worker/outbox.h"
#include "worker/slot_pool.h"
#include "worker/thread_pool.h"

namespace taskq::worker {

struct ProcessorOptions {
  std::string queue;
  // The hash tag of the queue's shard this loop claims from (broker::QueueLayout); empty: the
  // queue's own (shard 0, and the only one of a queue not sharded).
  std::string shard_tag;
  // With several shards, their loops share the queue's slots (concurrency is then the queue's):
  // this loop is shard `shard_index` of `slot_pool`. Null: the loop's own `concurrency` slots.
  std::shared_ptr<SlotPool> slot_pool;
  int32_t shard_index = 0;
  int32_t concurrency = 1;
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds recover_interval{5000};
  int32_t max_stalls = 3;
  std::chrono::milliseconds default_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds idle_poll{5000};
  int32_t max_errors_kept = 10;
  int32_t max_log_lines = 100;
  std::string worker_id;  // as in the worker registry; named in the log of jobs handed back
  // Opens the queue's wake subscription, on which the idle loop waits itself, so a wake reaches
  // it without passing through another thread. Empty: the loop polls every idle_poll only.
  SubscribeFunction subscribe;
  // Process isolation: the queue's handlers run in these handler processes instead of on the
  // thread pool (the registry still says which types the worker has, and from which queues).
  // Must outlive the processor's last attempt; null: threads.
  HandlerProcessPool* processes = nullptr;
  std::chrono::milliseconds handler_kill_grace{1000};  // the pool's: Shutdown waits that long
  // Called after a round trip that finished a job with a completion callback, or a recovery
  // that sent jobs to dead: the queue's outbox has entries to relay. Empty: none.
  std::function<void()> notify_relay;
};

class RunningJob;

class Processor {
 public:
  Processor(ProcessorOptions options, std::unique_ptr<broker::Broker> broker,
            const HandlerRegistry& handlers, ThreadPool& pool);
  ~Processor();  // Shutdown() if still running
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  const std::string& queue() const { return options_.queue; }
  const std::string& shard_tag() const { return options_.shard_tag; }
  // Wakes the loop (from any thread): slots it waited for may have come free.
  void Wake() { NotifyLoop(); }

  void Start();
  // Claims nothing more; running jobs go on.
  void StopClaiming();
  // Waits until no job runs and every result was sent, or the deadline passes. True if idle.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  // Ends the loop: the jobs still running are told to stop and their leases handed back, then
  // whatever is pending is sent. Blocks until done.
  void Shutdown();

  struct Stats {
    int64_t claimed = 0, completed = 0, failed = 0, rejected = 0, round_trips = 0;
    int64_t postponed = 0;  // rate limited (HandlerResult::RateLimited), attempt not counted
  };
  Stats stats() const;
  int64_t running() const;
  // Processing and wait-time histogram increments since the last call (JobTimings::Drain).
  std::vector<std::pair<std::string, int64_t>> DrainTimings();

  // Called by RunningJob (handler threads).
  void AddProgress(const RunningJob& job, std::string progress_json, std::string log_line);

 private:
  // The loop thread's timers and wishes between iterations.
  struct LoopState {
    std::chrono::milliseconds renew_every{1};  // lease / 3
    std::chrono::steady_clock::time_point next_renewal, next_recover, next_poll;
    // When the next delayed or retrying job is due (none: max()).
    std::chrono::steady_clock::time_point next_due = std::chrono::steady_clock::time_point::max();
    bool want_claim = true;                     // the queue may hold work for us
    std::chrono::milliseconds retry_pause{50};  // after a failed or partly refused round trip
  };

  void Loop();
  // One iteration, mu_ held (released while Redis works): waits while there is nothing to do;
  // else sends the outbox, lease renewals and a claim for the free slots in one round trip,
  // applies the answer and starts the claimed jobs.
  void RunOnce(std::unique_lock<std::mutex>& lock, LoopState& state);
  // recover.lua for this queue's expired leases. Loop thread, mu_ released.
  // True when some job went dead (its callback may wait in the outbox).
  bool RecoverExpiredLeases();
  // Logs each part of the round trip Redis refused; true if any. mu_ held.
  bool LogRefusedParts(const broker::FlushResult& result) const;
  // After a renewal of `sent_leases` at `sent`: stops the jobs whose leases were lost, moves the
  // stop_by of the others, and passes on cancel requests. mu_ held.
  void ApplyRenewals(const std::vector<broker::Lease>& sent_leases,
                     const broker::ExtendResult& extend,
                     std::chrono::steady_clock::time_point sent);
  // Starts the jobs of a claim for `asked` slots sent at `sent` (or hands them back when the
  // processor is shutting down), and decides whether to claim again at once. mu_ held (released
  // while handing over).
  void StartClaimed(std::unique_lock<std::mutex>& lock, LoopState& state,
                    broker::ClaimResult& claimed, int32_t asked,
                    std::chrono::steady_clock::time_point sent);
  // Reads the children's outcomes of the flow parents just claimed (mu_ released meanwhile) and
  // hands each over; one whose read failed waits kChildrenRetryDelay and runs again. mu_ held.
  static constexpr std::chrono::milliseconds kChildrenRetryDelay{1000};
  void ReadChildren(std::unique_lock<std::mutex>& lock,
                    const std::vector<std::shared_ptr<RunningJob>>& parents,
                    const std::function<void(std::shared_ptr<RunningJob>)>& hand_over);
  // Tells the loop something changed (changed_, and its wait on Redis).
  void NotifyLoop();
  // Registers the job as running and hands it to a handler thread; an inline job is returned for
  // the loop to run once it has released mu_.
  // now_ms: Redis time of the claim.
  // `claim_sent`: when the round trip that claimed it was sent (its lease counts from then).
  std::shared_ptr<RunningJob> StartJob(
      broker::ClaimedJob claimed, int64_t now_ms,
      std::chrono::steady_clock::time_point claim_sent);    // mu_ held
  void RunHandler(const std::shared_ptr<RunningJob>& job);  // handler thread
  // The attempt's handler returned `result`: queues its completion, failure or postponement
  // (or drops it if the job was abandoned). A handler thread or the process pool's thread.
  void FinishAttempt(const std::shared_ptr<RunningJob>& job, HandlerResult result);
  // retry_after >= 0 replaces the backoff delay. mu_ held.
  void AddFailure(const RunningJob& job, const std::string& message, bool retry,
                  std::chrono::milliseconds retry_after = std::chrono::milliseconds(-1));
  // The handler was rate limited: the job waits `after` without its attempt counting. mu_ held.
  void AddPostponement(const RunningJob& job, std::chrono::milliseconds after,
                       const std::string& message);
  // Marks the running jobs past their timeout as overrunning (their handlers are asked to stop;
  // their leases are still renewed), and stops the handlers of those whose leases this
  // worker could not renew in time (Redis unreachable: the lease may have expired in Redis, and
  // another worker may run the job). Looks at running_ only once next_job_check_ has come, so the
  // busy loop does not walk every running job on each turn. mu_ held.
  void CheckRunningJobs(std::chrono::steady_clock::time_point now);
  // The job's timeout: its own, or the worker's default.
  std::chrono::milliseconds TimeoutOf(const RunningJob& job) const;
  // "timed out after <timeout> ms": how every message about the job's timeout begins.
  std::string TimedOutText(const RunningJob& job) const;
  // When CheckRunningJobs must next look at the job: its deadline (until it overruns) or the time
  // its handler must stop unless its lease is renewed, whichever is first. mu_ held.
  static std::chrono::steady_clock::time_point NextCheckOf(const RunningJob& job);
  // When a handler must be asked to stop if its lease, sent at `lease_sent`, is not renewed.
  std::chrono::steady_clock::time_point StopBy(
      std::chrono::steady_clock::time_point lease_sent) const;
  // Moves a running job to abandoned_ and tells its handler to stop. mu_ held.
  void Abandon(const std::string& id);
  int32_t BusySlots() const;                              // mu_ held
  std::vector<broker::Lease> HeldLeases() const;          // mu_ held
  void CountFinished(const broker::FlushResult& result);  // mu_ held

  // Immutable after construction.
  const ProcessorOptions options_;
  const HandlerRegistry& handlers_;
  ThreadPool& pool_;
  // Only the loop thread (and Shutdown, after the loop has ended) uses the broker.
  std::unique_ptr<broker::Broker> broker_;
  std::thread loop_;
  // Runs CheckRunningJobs every lease/10 (10 ms to 1 s), so that handlers whose leases could not
  // be renewed stop in time even while the loop waits on an unreachable Redis (each of its calls
  // may take up to a third of the lease). Stops when watch_stop_ is set (guarded by mu_).
  std::thread lease_watch_;
  std::condition_variable watch_changed_;
  bool watch_stop_ = false;

  IdleWait idle_;  // Wait and PollWhileBusy: the loop thread's only

  mutable std::mutex mu_;
  std::condition_variable changed_;  // anything the loop or WaitIdle waits for
  // Guarded by mu_.
  // Jobs whose handler runs and whose lease this worker holds, by id.
  std::unordered_map<std::string, std::shared_ptr<RunningJob>> running_;
  // Jobs whose handler still runs but whose result will be discarded (timed out, lease lost,
  // handed back). They still hold a slot (a thread), and their id may be claimed again meanwhile.
  std::unordered_map<const RunningJob*, std::shared_ptr<RunningJob>> abandoned_;
  Outbox outbox_;
  // outbox_ holds a result whose script writes an entry to the queue's outbox (a completion
  // callback, or a step of a flow across queues), which the relay then applies (guarded by mu_,
  // as outbox_).
  bool relay_owed_ = false;
  // No running job times out or runs out of its lease before this (a renewal only moves those
  // later, so it may be early, never late). Guarded by mu_.
  std::chrono::steady_clock::time_point next_job_check_ =
      std::chrono::steady_clock::time_point::max();

  // Claim receipts (claim.lua): each claim is named receipt_prefix_:<n>. The receipts of round
  // trips that failed with a claim in them wait in lost_receipts_ until ReleaseLostClaim hands
  // back what Redis may have claimed. Loop thread only (then Shutdown's).
  const std::string receipt_prefix_;
  uint64_t claims_sent_ = 0;
  std::vector<std::string> lost_receipts_;
  void ReleaseLostClaims();
  bool wake_ = true;
  bool claiming_ = true;
  bool exit_ = false;
  bool flush_in_flight_ = false;
  Stats stats_;
  JobTimings timings_;
};

}  // namespace taskq::worker
