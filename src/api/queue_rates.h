// Processed and failed jobs per minute of each queue, from samples of the lifetime counters that
// Redis keeps (meta.completed, meta.failed). Samples are taken whenever the API reads a queue's
// counts (GET /api/queues, /api/queues/{q}; the dashboard polls these); a rate needs two samples
// at least 5 s apart, so a freshly started API reports none yet, and with sparse reads the window
// stretches beyond a minute (the rate is still per minute, averaged over it).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace taskq::api {

class QueueRates {
 public:
  using Clock = std::chrono::steady_clock;
  struct PerMinute {
    double processed = 0;
    double failed = 0;
  };

  void Sample(const std::string& queue, Clock::time_point at, int64_t completed_total,
              int64_t failed_total);
  // Over the last minute (or as much of it as was sampled).
  std::optional<PerMinute> Rate(const std::string& queue) const;

 private:
  struct Point {
    Clock::time_point at;
    int64_t completed, failed;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Point>> samples_;  // guarded by mu_; oldest first
};

}  // namespace taskq::api
