#include "api/http_metrics.h"

#include <fmt/format.h>

namespace taskq::api {

void HttpMetrics::Record(const std::string& method, const std::string& route, int status,
                         std::chrono::steady_clock::duration latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  Latency& l = latency_[{method, route}];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++l.buckets[i];
      break;
    }
  }
  ++l.count;
  l.sum_seconds += seconds;
}

void HttpMetrics::AppendPrometheus(std::string* out) const {
  std::lock_guard lock(mu_);
  *out += "# HELP taskq_http_requests_total HTTP requests answered, by route and status.\n";
  *out += "# TYPE taskq_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, status] = key;
    *out += fmt::format("taskq_http_requests_total{{method=\"{}\",route=\"{}\",code=\"{}\"}} {}\n",
                        method, route, status, n);
  }
  *out += "# HELP taskq_http_request_duration_seconds Time from a request read to its answer.\n";
  *out += "# TYPE taskq_http_request_duration_seconds histogram\n";
  for (const auto& [key, l] : latency_) {
    const auto& [method, route] = key;
    const std::string labels = fmt::format("method=\"{}\",route=\"{}\"", method, route);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += l.buckets[i];
      *out += fmt::format("taskq_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                          kBuckets[i], cumulative);
    }
    *out += fmt::format("taskq_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels,
                        l.count);
    *out +=
        fmt::format("taskq_http_request_duration_seconds_sum{{{}}} {}\n", labels, l.sum_seconds);
    *out += fmt::format("taskq_http_request_duration_seconds_count{{{}}} {}\n", labels, l.count);
  }
}

}  // namespace taskq::api
