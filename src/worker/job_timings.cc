#include "worker/job_timings.h"

#include <algorithm>

namespace taskq::worker {

void JobTimings::Record(Histogram* h, int64_t ms) {
  ms = std::max<int64_t>(ms, 0);
  size_t i = 0;
  while (i < kBucketsMs.size() && ms > kBucketsMs[i]) ++i;
  ++h->buckets[i];
  h->sum_ms += ms;
  ++h->count;
}

std::vector<std::pair<std::string, int64_t>> JobTimings::Drain() {
  std::vector<std::pair<std::string, int64_t>> out;
  auto drain = [&out](const char* kind, std::map<std::string, Histogram>& histograms) {
    for (auto& [type, h] : histograms) {
      if (h.count == 0) continue;
      const std::string prefix = std::string(kind) + ":" + type + ":";
      for (size_t i = 0; i < h.buckets.size(); ++i) {
        if (h.buckets[i] == 0) continue;
        out.emplace_back(prefix + (i < kBucketsMs.size() ? std::to_string(kBucketsMs[i]) : "+Inf"),
                         h.buckets[i]);
      }
      out.emplace_back(prefix + "sum_ms", h.sum_ms);
      out.emplace_back(prefix + "count", h.count);
    }
    histograms.clear();
  };
  drain("p", processing_);
  drain("w", wait_);
  return out;
}

}  // namespace taskq::worker
