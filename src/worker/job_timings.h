// Histograms of how long jobs ran (processing) and waited before their first attempt, per job
// type, kept as counters that only grow. A worker accumulates them in memory and its heartbeat
// (the worker registry's, heartbeat.h) adds the increments to the queue's `metrics` hash in Redis
// (docs/metrics.md), so any API process can render them for every worker. Not thread-safe: the
// owner guards it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "taskq/job_timings.h"

namespace taskq::worker {

class JobTimings {
 public:
  // Upper bounds in ms; the field of bucket i is "<p|w>:<type>:<kBucketsMs[i]>", plus "+Inf",
  // "sum_ms" and "count" (docs/metrics.md). Counts are per bucket, not cumulative.
  static constexpr std::array<int64_t, kTimingBucketsMs.size()> kBucketsMs = kTimingBucketsMs;

  void RecordProcessing(const std::string& type, int64_t ms) { Record(&processing_[type], ms); }
  void RecordWait(const std::string& type, int64_t ms) { Record(&wait_[type], ms); }
  // The increments since the last Drain, as (hash field, increment); empties the counters.
  std::vector<std::pair<std::string, int64_t>> Drain();

 private:
  struct Histogram {
    std::array<int64_t, kBucketsMs.size() + 1> buckets{};  // the last one is +Inf
    int64_t sum_ms = 0;
    int64_t count = 0;
  };
  static void Record(Histogram* h, int64_t ms);

  std::map<std::string, Histogram> processing_;
  std::map<std::string, Histogram> wait_;
};

}  // namespace taskq::worker
