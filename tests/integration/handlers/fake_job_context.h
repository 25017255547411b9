// The handler's input for one attempt, as a worker would hand it over, with what the handler
// reported (progress, log) kept for the test to check, and a stop request the test can trigger.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "taskq/handler.h"

namespace taskq::handlers {

class FakeJobContext : public JobContext {
 public:
  FakeJobContext(std::string type, std::string data_json)
      : type_(std::move(type)), data_json_(std::move(data_json)) {}

  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  const std::string& queue() const override { return type_; }
  const std::string& data_json() const override { return data_json_; }
  int32_t attempt() const override { return 1; }
  int32_t max_attempts() const override { return 3; }
  void SetProgress(std::string progress_json) override {
    progress.push_back(std::move(progress_json));
    if (stop_after_progress > 0 && static_cast<int>(progress.size()) >= stop_after_progress) {
      stop = true;
    }
  }
  void Log(std::string line) override { log.push_back(std::move(line)); }
  bool stop_requested() const override { return stop; }
  std::chrono::steady_clock::time_point deadline() const override {
    return std::chrono::steady_clock::now() + std::chrono::minutes(10);
  }

  std::vector<std::string> progress;
  std::vector<std::string> log;
  std::atomic<bool> stop{false};
  int stop_after_progress = 0;  // > 0: request a stop once this many progress reports came

 private:
  std::string id_ = "job-1";
  std::string type_;
  std::string data_json_;
};

}  // namespace taskq::handlers
