// The standard process_* metrics of Prometheus' client libraries, for the API process, read from
// /proc/self at scrape time (Linux only), and taskq_build_info.
#pragma once

#include <string>

namespace taskq::api {

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds, in Prometheus text format;
// a value /proc does not give is left out.
void AppendProcessMetrics(std::string* out);

// taskq_build_info{version="..."} 1.
void AppendBuildInfo(std::string* out);

}  // namespace taskq::api
