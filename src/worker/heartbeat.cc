#include "worker/heartbeat.h"

#include <spdlog/spdlog.h>

#include "common/worker_info_codec.h"

namespace taskq::worker {

Heartbeat::Heartbeat(HeartbeatOptions options, std::unique_ptr<broker::Broker> broker,
                     std::function<WorkerInfo()> describe)
    : options_(options), describe_(std::move(describe)), broker_(std::move(broker)) {}

Heartbeat::~Heartbeat() { Stop(); }

void Heartbeat::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      if (Status s = RunOnce(); !s.ok()) spdlog::warn("worker heartbeat: {}", s.ToString());
      lock.lock();
      cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
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
  if (!id_.empty()) {
    if (Status s = broker_->WorkerHeartbeat(id_, ""); !s.ok()) {
      spdlog::warn("could not remove this worker from the registry: {}", s.ToString());
    }
  }
}

Status Heartbeat::RunOnce() {
  WorkerInfo info = describe_();
  id_ = info.id;
  return broker_->WorkerHeartbeat(info.id, EncodeWorkerInfo(info));
}

}  // namespace taskq::worker
