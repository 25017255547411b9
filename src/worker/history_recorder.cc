#include "worker/history_recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace taskq::worker {

HistoryRecorder::HistoryRecorder(HistoryRecorderOptions options,
                                 std::unique_ptr<broker::Broker> broker)
    : options_(options), broker_(std::move(broker)) {}

HistoryRecorder::~HistoryRecorder() { Stop(); }

std::chrono::milliseconds HistoryRecorder::RecordOnce() {
  const std::chrono::milliseconds retry =
      std::min(options_.bucket, std::chrono::milliseconds(5000));
  auto queues = broker_->Queues();
  if (!queues.ok()) {
    spdlog::warn("history: cannot list the queues: {}", queues.status().ToString());
    return retry;
  }
  std::chrono::milliseconds wait = options_.bucket;
  for (const std::string& queue : *queues) {
    auto recorded = broker_->RecordHistory(queue, options_.bucket, options_.keep);
    if (!recorded.ok()) {
      spdlog::warn("history: queue {}: {}", queue, recorded.status().ToString());
      return retry;
    }
    wait = std::min(wait, recorded->until_next);
  }
  return wait;
}

void HistoryRecorder::Start() {
  thread_ = std::thread([this] {
    std::mt19937_64 random(std::random_device{}());
    const int64_t spread =
        std::min(options_.spread.count(), options_.bucket.count() / 4) + 1;  // > 0
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      const std::chrono::milliseconds wait =
          RecordOnce() + std::chrono::milliseconds(random() % static_cast<uint64_t>(spread));
      lock.lock();
      cv_.wait_for(lock, wait, [this] { return stopping_; });
    }
  });
}

void HistoryRecorder::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace taskq::worker
