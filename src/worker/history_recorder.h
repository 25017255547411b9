// Records the history of every registered queue (broker/lua/history_record.lua): one sample per
// bucket, taken soon after the bucket starts. Every worker runs one; the first to call in a
// bucket writes its sample and the others' calls change nothing, so the history has no hole
// while any worker runs and no double however many run.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "broker/broker.h"

namespace taskq::worker {

struct HistoryRecorderOptions {
  std::chrono::milliseconds bucket{60000};  // 1 s to 1 h
  int32_t keep = 1440;                      // buckets kept: a day of minutes
  // After a bucket starts, a recorder waits a random time up to this (at most a quarter of the
  // bucket) so that the workers do not all call at once.
  std::chrono::milliseconds spread{5000};
};

class HistoryRecorder {
 public:
  HistoryRecorder(HistoryRecorderOptions options, std::unique_ptr<broker::Broker> broker);
  ~HistoryRecorder();  // Stop()
  HistoryRecorder(const HistoryRecorder&) = delete;
  HistoryRecorder& operator=(const HistoryRecorder&) = delete;

  void Start();
  void Stop();
  // Records every registered queue once; returns how long to wait for the next bucket (a
  // shorter retry when Redis failed).
  std::chrono::milliseconds RecordOnce();

 private:
  const HistoryRecorderOptions options_;
  std::unique_ptr<broker::Broker> broker_;  // only on thread_ (or the caller before Start)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace taskq::worker
