// Processed and failed jobs per minute of each queue, and the mean wait of the jobs that started
// meanwhile, from samples of the lifetime counters that Redis keeps (meta.completed, meta.failed,
// and the wait-time histograms' sum and count that workers add to every few seconds). Samples are
// taken whenever the API reads a queue's counts (GET /api/queues, /api/queues/{q}; the dashboard
// polls these); a rate needs two samples at least 5 s apart, so a freshly started API reports none
// yet, and with sparse reads the window stretches beyond a minute (the rate is still per minute,
// averaged over it).
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
  struct Totals {
    int64_t completed = 0;
    int64_t failed = 0;
    int64_t wait_sum_ms = 0;  // over every job type
    int64_t wait_count = 0;
  };
  struct PerMinute {
    double processed = 0;
    double failed = 0;
    std::optional<double> mean_wait_ms;  // none when no start was reported in the window
  };

  void Sample(const std::string& queue, Clock::time_point at, const Totals& totals);
  // Over the last minute (or as much of it as was sampled).
  std::optional<PerMinute> Rate(const std::string& queue) const;

 private:
  struct Point {
    Clock::time_point at;
    Totals totals;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Point>> samples_;  // guarded by mu_; oldest first
};

}  // namespace taskq::api
