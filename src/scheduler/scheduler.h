// The schedule loop (`taskq scheduler`): once per tick, enqueue the jobs of the schedules whose
// fire time has come and advance them. Any number may run: each fire time gets one job whatever
// they do (docs/architecture.md, "Schedules"); a leadership lease only keeps the others from
// doing the same work twice.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "taskq/client.h"
#include "taskq/status.h"

namespace taskq::broker {
class Broker;
}

namespace taskq::scheduler {

struct SchedulerOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "taskq";
  // How often the leader looks for due schedules (so, how late a fire time's job may be), and how
  // often the others try to take the lease.
  std::chrono::milliseconds tick{1000};
  // The leader's lease: a killed leader is replaced within about this plus one tick.
  std::chrono::milliseconds lease{2000};
  // A fire time more than this late is "missed" (the schedule's missed policy decides); the
  // default covers a change of leader and a short Redis outage.
  std::chrono::milliseconds grace{30000};
  int32_t max_due_per_tick = 1000;  // schedules handled per tick; the rest in the next one
};

class Scheduler {
 public:
  struct TickResult {
    bool leader = false;
    int64_t jobs_enqueued = 0;  // new jobs (an id that existed is not counted)
    int64_t advanced = 0;       // schedules advanced
    int64_t refused = 0;        // advances refused: another scheduler or an edit came first
    bool more_due = false;      // max_due_per_tick was reached and some were advanced: tick again
  };

  static Result<std::unique_ptr<Scheduler>> Open(SchedulerOptions options);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs RunOnce on a thread every tick until Stop().
  void Start();
  // Joins the thread and gives the lease up, so another scheduler takes over at its next tick.
  void Stop();
  // One tick: take or renew the lease; when held, handle the due schedules. Tests call it directly.
  Result<TickResult> RunOnce();

  const std::string& token() const { return token_; }

 private:
  Scheduler(SchedulerOptions options, std::unique_ptr<broker::Broker> broker,
            std::unique_ptr<Client> client);
  void Loop();

  // Immutable after construction.
  const SchedulerOptions options_;
  const std::string token_;  // this process's lease token: host:pid:random
  // Only the loop thread (or the caller of RunOnce, before Start) uses these.
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<Client> client_;
  bool leader_ = false;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace taskq::scheduler
