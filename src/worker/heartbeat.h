// Tells the others this worker is alive and what it runs: every `interval` it writes its
// description to the worker registry (worker_heartbeat.lua), and adds the job timing histogram
// increments gathered since the last beat to the queues' metrics hashes; Stop sends the last
// increments and removes the record. A worker killed without Stop ages out of listings.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/broker.h"
#include "taskq/worker_info.h"

namespace taskq::worker {

struct HeartbeatOptions {
  std::chrono::milliseconds interval{5000};
};

class Heartbeat {
 public:
  using QueueIncrements = std::vector<std::pair<std::string, broker::Broker::CounterIncrements>>;
  Heartbeat(HeartbeatOptions options, std::unique_ptr<broker::Broker> broker,
            std::function<WorkerInfo()> describe, std::function<QueueIncrements()> drain_metrics);
  ~Heartbeat();  // Stop()
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // Sends the first beat, then one every interval on its own thread.
  void Start();
  // Ends the loop and removes this worker's record.
  void Stop();
  // One heartbeat (the loop's step; tests call it directly).
  Status RunOnce();

 private:
  Status SendMetrics();
  // Records silent for longer than this are swept from the registry by each heartbeat.
  std::chrono::milliseconds SweepAfter() const;

  const HeartbeatOptions options_;
  const std::function<WorkerInfo()> describe_;
  const std::function<QueueIncrements()> drain_metrics_;
  // Increments Redis has not taken yet (it was unreachable): sent with the next beat. Only on
  // thread_ (or the caller of RunOnce).
  std::map<std::pair<std::string, std::string>, int64_t> unsent_;
  std::unique_ptr<broker::Broker> broker_;  // only on thread_ (or the caller before Start)
  std::string id_;                          // immutable after the first RunOnce
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace taskq::worker
