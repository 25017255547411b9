#include "worker/heartbeat.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/worker_info_codec.h"

namespace taskq::worker {

Heartbeat::Heartbeat(HeartbeatOptions options, std::unique_ptr<broker::Broker> broker,
                     std::function<WorkerInfo()> describe,
                     std::function<QueueIncrements()> drain_metrics)
    : options_(options),
      describe_(std::move(describe)),
      drain_metrics_(std::move(drain_metrics)),
      broker_(std::move(broker)) {}

Heartbeat::~Heartbeat() { Stop(); }

void Heartbeat::Start() {
  // The first beat before Start returns: once a worker has started, it is listed.
  if (Status s = RunOnce(); !s.ok()) spdlog::warn("worker heartbeat: {}", s.ToString());
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
      lock.unlock();
      if (Status s = RunOnce(); !s.ok()) spdlog::warn("worker heartbeat: {}", s.ToString());
      lock.lock();
    }
  });
}

void Heartbeat::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (Status s = SendMetrics(); !s.ok()) {
    spdlog::warn("could not send the last job timings: {}", s.ToString());
  }
  if (!id_.empty()) {
    if (Status s = broker_->WorkerHeartbeat(id_, "", SweepAfter()); !s.ok()) {
      spdlog::warn("could not remove this worker from the registry: {}", s.ToString());
    }
  }
}

Status Heartbeat::SendMetrics() {
  if (drain_metrics_) {
    for (auto& [queue, increments] : drain_metrics_()) {
      for (auto& [field, n] : increments) unsent_[{queue, field}] += n;
    }
  }
  if (unsent_.empty()) return Status::Ok();
  QueueIncrements batch;
  for (const auto& [key, n] : unsent_) {
    if (batch.empty() || batch.back().first != key.first) batch.push_back({key.first, {}});
    batch.back().second.emplace_back(key.second, n);
  }
  // HINCRBY is not idempotent: after an error nothing is known about which ones applied. Keep
  // them all for the next beat; a rare double count beats losing a connection's worth.
  TASKQ_RETURN_IF_ERROR(broker_->AddMetrics(batch));
  unsent_.clear();
  return Status::Ok();
}

std::chrono::milliseconds Heartbeat::SweepAfter() const {
  // Far beyond any live worker's silence, whatever interval the other workers beat at.
  return std::max(options_.interval * 10, std::chrono::milliseconds(60000));
}

Status Heartbeat::RunOnce() {
  Status metrics = SendMetrics();
  WorkerInfo info = describe_();
  id_ = info.id;
  TASKQ_RETURN_IF_ERROR(broker_->WorkerHeartbeat(info.id, EncodeWorkerInfo(info), SweepAfter()));
  return metrics;
}

}  // namespace taskq::worker
