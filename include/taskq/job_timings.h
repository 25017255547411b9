// How long a queue's jobs ran and waited, per job type, as histograms summed over every worker
// (docs/metrics.md). Read with Inspector::Timings.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace taskq {

// The upper bounds, in ms, of the buckets workers count into. A histogram read back has every one
// of them (a bucket no job fell in counts 0), so its series stay the same from scrape to scrape.
inline constexpr std::array<int64_t, 14> kTimingBucketsMs = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000};

struct TimingHistogram {
  // Upper bounds in ms, ascending; counts[i] jobs took at most bounds_ms[i] (and more than the
  // bound before). overflow: jobs above the last bound.
  std::vector<int64_t> bounds_ms;
  std::vector<int64_t> counts;
  int64_t overflow = 0;
  int64_t sum_ms = 0;
  int64_t count = 0;
};

// What the handler processes of a queue (process isolation) went through, over all workers.
struct HandlerProcessCounts {
  int64_t started = 0;        // started, replacements included
  int64_t timed_out = 0;      // stopped at an attempt's deadline plus the kill grace
  int64_t stopped = 0;        // stopped the kill grace after a stop request (cancel, lease, exit)
  int64_t out_of_memory = 0;  // their handler ran out of memory under the cap
  int64_t crashed = 0;        // ended by themselves mid-job (a signal, an exit)
};

// What workers report about a queue's jobs, added up in Redis with every heartbeat.
struct QueueTimings {
  std::map<std::string, TimingHistogram> processing;  // by job type: handler run time
  std::map<std::string, TimingHistogram> wait;        // by job type: due -> first claim
  HandlerProcessCounts handler_processes;
};

}  // namespace taskq
