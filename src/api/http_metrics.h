// Counters and latency histograms of the API's own requests, rendered as Prometheus text
// (docs/metrics.md). Thread-safe: recorded from whichever thread answers a request.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace taskq::api {

class HttpMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    5};

  // `route` is the route's pattern ("/api/jobs/{id}"), never the raw path: labels stay bounded.
  void Record(const std::string& method, const std::string& route, int status,
              std::chrono::steady_clock::duration latency);
  void AppendPrometheus(std::string* out) const;

 private:
  struct Latency {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;  // guarded by mu_
  std::map<std::pair<std::string, std::string>, Latency> latency_;          // guarded by mu_
};

}  // namespace taskq::api
