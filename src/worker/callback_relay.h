// Completion callbacks: relays queues' outboxes (broker/lua/include/hooks.lua). The script that
// finished a job with a callback URL wrote an outbox entry in the same atomic step; the relay
// turns each entry into a `webhook` job in the callback queue and then deletes the entries. The
// webhook job's id comes from the entry ("cb:<queue>:<entry id>"), so an entry applied twice (a
// relay that died before deleting it, or two relays at once) creates one job while that job
// exists, and its receiver sees one `webhook-id` in any case.
// The relay also carries the steps of flows across queues (flows.lua): a flow's queue dispatches
// and cancels jobs of other queues, and those jobs report their finishes and retries back, each
// as an entry applied in the other queue by an idempotent script (Broker::ApplyFlowEntries), in
// the order written.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "taskq/status.h"

namespace taskq::worker {

struct CallbackRelayOptions {
  // Where the webhook jobs go; a worker must run the `webhook` type from it.
  std::string callback_queue = "webhook";
  // The relay's lease token on an outbox (outbox_take.lua): the worker's id.
  std::string token;
  std::chrono::milliseconds lease{5000};
  int32_t max_entries = 100;  // per take
  // The worker's own queues are relayed at this interval, and at once when a processor finished
  // a job with a callback (Poke).
  std::chrono::milliseconds interval{1000};
  // Every this many intervals, every queue of the registry too: entries of a queue that no
  // running worker serves are still relayed.
  int32_t all_queues_every = 10;
};

// The webhook job, for `callback_queue`, that an outbox entry of `queue` asks for; an error when
// the entry is malformed (it cannot be applied, now or later).
Result<broker::NewJob> CallbackJobFor(const std::string& queue, const std::string& callback_queue,
                                      const broker::OutboxEntry& entry);

// Takes, applies and deletes `queue`'s outbox entries until it is empty or another relay holds
// it, then those of the flows' queues its reports went to. Returns how many entries were
// applied. A malformed entry is logged and deleted; one of an unknown kind (written by a newer
// version) is left for a relay that knows it.
Result<int64_t> RelayOutbox(broker::Broker& broker, const std::string& queue,
                            const CallbackRelayOptions& options);

class CallbackRelay {
 public:
  CallbackRelay(CallbackRelayOptions options, std::unique_ptr<broker::Broker> broker,
                std::vector<std::string> queues);
  ~CallbackRelay();  // Stop()
  CallbackRelay(const CallbackRelay&) = delete;
  CallbackRelay& operator=(const CallbackRelay&) = delete;

  void Start();
  // Relays once more, then ends the thread.
  void Stop();
  // Relays the worker's queues now (from any thread).
  void Poke();
  // One pass: the worker's queues, and every registered queue when `all` (the loop's step).
  void RunOnce(bool all);

 private:
  const CallbackRelayOptions options_;
  std::unique_ptr<broker::Broker> broker_;  // only on thread_ (or the caller before Start)
  const std::vector<std::string> queues_;
  // The hash tags of a queue's shards (each has an outbox), read again after kLayoutKept; the
  // queue alone until a read succeeds. Only on thread_ (or the caller before Start).
  const std::vector<std::string>& ShardTagsOf(const std::string& queue);
  static constexpr std::chrono::seconds kLayoutKept{5};
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::vector<std::string>>>
      shard_tags_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace taskq::worker
