// Tells the others this worker is alive and what it runs: every `interval` it writes its
// description to the worker registry (worker_heartbeat.lua); Stop removes it. A worker killed
// without Stop ages out of listings after HeartbeatOptions::max_age.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
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
  Heartbeat(HeartbeatOptions options, std::unique_ptr<broker::Broker> broker,
            std::function<WorkerInfo()> describe);
  ~Heartbeat();  // Stop()
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  void Start();
  // Ends the loop and removes this worker's record.
  void Stop();
  // One heartbeat (the loop's step; tests call it directly).
  Status RunOnce();

 private:
  const HeartbeatOptions options_;
  const std::function<WorkerInfo()> describe_;
  std::unique_ptr<broker::Broker> broker_;  // only on thread_ (or the caller before Start)
  std::string id_;                          // immutable after the first RunOnce
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace taskq::worker
