// The nodes of the local cluster the CTest fixture started (tests/testing/redis_cluster.py; its
// directory is in TASKQ_TEST_CLUSTER): "127.0.0.1:PORT", masters first. Empty outside ctest.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace taskq::testing {

inline std::vector<std::string> FixtureClusterNodes() {
  std::vector<std::string> nodes;
  const char* directory = std::getenv("TASKQ_TEST_CLUSTER");
  if (directory == nullptr) return nodes;
  std::ifstream in(std::string(directory) + "/nodes");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) nodes.push_back(line);
  }
  return nodes;
}

}  // namespace taskq::testing
