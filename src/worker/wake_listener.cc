#include "worker/wake_listener.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace taskq::worker {

WakeListener::WakeListener(broker::BrokerOptions options, std::vector<Processor*> processors)
    : options_(std::move(options)), processors_(std::move(processors)) {}

WakeListener::~WakeListener() { Stop(); }

void WakeListener::Start() {
  thread_ = std::thread([this] { Run(); });
}

void WakeListener::Stop() {
  stopping_.store(true);
  {
    std::lock_guard lock(mu_);
    if (subscription_) subscription_->Stop();
  }
  if (thread_.joinable()) thread_.join();
}

void WakeListener::WakeAll() {
  for (Processor* p : processors_) p->Wake();
}

void WakeListener::Run() {
  std::vector<std::string> queues;
  for (Processor* p : processors_) queues.push_back(p->queue());
  std::chrono::milliseconds pause(100);
  while (!stopping_.load()) {
    auto subscribed = broker::SubscribeWake(options_, queues);
    if (!subscribed.ok()) {
      spdlog::warn("wake listener: {}; retrying in {} ms", subscribed.status().ToString(),
                   pause.count());
      for (int i = 0; i < pause.count() / 10 && !stopping_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      pause = std::min(pause * 2, std::chrono::milliseconds(2000));
      continue;
    }
    {
      std::lock_guard lock(mu_);
      subscription_ = std::move(*subscribed);
      if (stopping_.load()) break;
    }
    pause = std::chrono::milliseconds(100);
    WakeAll();  // anything published before the subscription took effect
    while (!stopping_.load()) {
      auto woken = subscription_->Next();
      if (!woken.ok()) break;
      for (Processor* p : processors_) {
        if (p->queue() == *woken) p->Wake();
      }
    }
    std::lock_guard lock(mu_);
    subscription_.reset();
  }
}

}  // namespace taskq::worker
