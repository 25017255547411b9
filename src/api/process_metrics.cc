#include "api/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace taskq::api {
namespace {

void Gauge(std::string* out, const char* name, const char* type, const char* help, double value) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
          name + " ";
  std::ostringstream text;
  text.precision(15);
  text << value;
  *out += text.str() + "\n";
}

// The fields of /proc/self/stat after the command name (which may hold spaces): field 3 (state)
// is [0].
std::vector<std::string> StatFields(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> fields;
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(text.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

// Seconds since the epoch when the system booted (/proc/stat "btime"); 0 when unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("btime ")) return std::stod(line.substr(6));
  }
  return 0;
}

}  // namespace

void AppendProcessMetrics(std::string* out) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const std::vector<std::string> stat = StatFields("/proc/self/stat");
  // utime, stime, starttime and vsize, rss are fields 14, 15, 22, 23 and 24 of stat(5).
  if (stat.size() >= 22 && ticks > 0) {
    Gauge(out, "process_cpu_seconds_total", "counter",
          "User and system CPU time spent, in seconds.",
          (std::stod(stat[11]) + std::stod(stat[12])) / ticks);
    if (const double boot = BootTime(); boot > 0) {
      Gauge(out, "process_start_time_seconds", "gauge",
            "Start time of the process since the Unix epoch, in seconds.",
            boot + std::stod(stat[19]) / ticks);
    }
    Gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          std::stod(stat[20]));
    Gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          std::stod(stat[21]) * page);
  }
  std::error_code error;
  double open = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++open;
  }
  if (!error) {
    Gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.", open);
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    Gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
          static_cast<double>(limit.rlim_cur));
  }
}

void AppendBuildInfo(std::string* out) {
  *out +=
      "# HELP taskq_build_info The version of taskq that answers, as a label; always 1.\n"
      "# TYPE taskq_build_info gauge\n"
      "taskq_build_info{version=\"" TASKQ_VERSION "\"} 1\n";
}

}  // namespace taskq::api
