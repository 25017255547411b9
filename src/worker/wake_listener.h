// Listens on the queues' wake channels (published by enqueue, promote, resume, recover ...) and
// wakes the matching processor, so an idle worker starts new work at once and uses no CPU while
// it waits. After a dropped connection it wakes every processor, since messages may be lost.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "worker/processor.h"

namespace taskq::worker {

class WakeListener {
 public:
  WakeListener(broker::BrokerOptions options, std::vector<Processor*> processors);
  ~WakeListener();
  void Start();
  void Stop();

 private:
  void Run();
  void WakeAll();

  const broker::BrokerOptions options_;
  const std::vector<Processor*> processors_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::shared_ptr<broker::WakeSubscription> subscription_;  // guarded by mu_; Stop() interrupts it
};

}  // namespace taskq::worker
