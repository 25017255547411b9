#include "redis_cluster_processes.h"

#include <chrono>
#include <thread>

namespace taskq::bench {

RedisClusterProcesses::RedisClusterProcesses(int masters) {
  std::string create = "redis-cli --cluster create";
  for (int i = 0; i < masters; ++i) {
    masters_.push_back(std::make_unique<RedisProcess>(false, false, /*cluster_node=*/true));
    if (!masters_.back()->ok()) return;
    create += " 127.0.0.1:" + std::to_string(masters_.back()->port());
  }
  Capture(create + " --cluster-replicas 0 --cluster-yes >/dev/null 2>&1");
  for (int attempt = 0; attempt < 300; ++attempt) {
    bool settled = true;
    for (const auto& master : masters_) {
      settled =
          settled && master->Cli({"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
    }
    if (settled) {
      ok_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string RedisClusterProcesses::url() const {
  std::string url = "redis+cluster://";
  for (size_t i = 0; i < masters_.size(); ++i) {
    url += (i > 0 ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(masters_[i]->port());
  }
  return url;
}

void RedisClusterProcesses::FlushAll() {
  for (const auto& master : masters_) master->Cli({"FLUSHALL"});
}

std::vector<double> RedisClusterProcesses::MainThreadCpuSeconds() const {
  std::vector<double> out;
  for (const auto& master : masters_) out.push_back(master->MainThreadCpuSeconds());
  return out;
}

int RedisClusterProcesses::MasterOf(const std::string& key) const {
  const int slot = std::stoi("0" + masters_.front()->Cli({"CLUSTER", "KEYSLOT", key}));
  const int n = static_cast<int>(masters_.size());
  // Each master's line "myself" in its own CLUSTER NODES ends with its range, "... 0-5460".
  for (int i = 0; i < n; ++i) {
    const std::string nodes = masters_[i]->Cli({"CLUSTER", "NODES"});
    for (size_t line = 0; line < nodes.size();) {
      const size_t end = nodes.find('\n', line);
      const std::string text = nodes.substr(line, end - line);
      line = end == std::string::npos ? nodes.size() : end + 1;
      if (text.find("myself") == std::string::npos) continue;
      const size_t dash = text.rfind('-');
      const size_t space = text.rfind(' ', dash);
      if (dash == std::string::npos || space == std::string::npos) continue;
      const int low = std::stoi(text.substr(space + 1, dash - space - 1));
      const int high = std::stoi(text.substr(dash + 1));
      if (slot >= low && slot <= high) return i;
    }
  }
  return -1;
}

}  // namespace taskq::bench
