// What a worker hands a handler for one attempt, for tests that call a handler directly: records
// the log lines and progress it reports, and asks the handler to stop when the test says so.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "taskq/handler.h"

namespace taskq::testing {

class FakeJobContext : public JobContext {
 public:
  FakeJobContext(std::string id, std::string data_json, int32_t attempt = 1)
      : id_(std::move(id)), data_json_(std::move(data_json)), attempt_(attempt) {}

  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  const std::string& queue() const override { return type_; }
  const std::string& data_json() const override { return data_json_; }
  int32_t attempt() const override { return attempt_; }
  int32_t max_attempts() const override { return 3; }
  const std::vector<FlowChild>& children() const override { return flow_children; }
  void SetProgress(std::string progress_json) override {
    progress.push_back(std::move(progress_json));
    if (stop_after_progress > 0 && static_cast<int>(progress.size()) >= stop_after_progress) {
      stop = true;
    }
  }
  void Log(std::string line) override { log.push_back(std::move(line)); }
  bool stop_requested() const override { return stop; }
  std::chrono::steady_clock::time_point deadline() const override { return deadline_; }

  std::vector<std::string> log;
  std::vector<std::string> progress;
  std::atomic<bool> stop{false};
  int stop_after_progress = 0;           // > 0: ask for a stop once this many progress reports came
  std::vector<FlowChild> flow_children;  // what children() gives

 private:
  std::string id_;
  std::string type_ = "test";
  std::string data_json_;
  int32_t attempt_;
  std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::now() + std::chrono::minutes(10);
};

}  // namespace taskq::testing
