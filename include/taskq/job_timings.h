// How long a queue's jobs ran and waited, per job type, as histograms summed over every worker
// (docs/metrics.md). Read with Inspector::Timings.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace taskq {

struct TimingHistogram {
  // Upper bounds in ms, ascending; counts[i] jobs took at most bounds_ms[i] (and more than the
  // bound before). overflow: jobs above the last bound.
  std::vector<int64_t> bounds_ms;
  std::vector<int64_t> counts;
  int64_t overflow = 0;
  int64_t sum_ms = 0;
  int64_t count = 0;
};

struct QueueTimings {
  std::map<std::string, TimingHistogram> processing;  // by job type: handler run time
  std::map<std::string, TimingHistogram> wait;        // by job type: due -> first claim
};

}  // namespace taskq
