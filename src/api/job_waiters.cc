#include "api/job_waiters.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace taskq::api {

JobWaiters::JobWaiters(InspectorOptions redis, std::chrono::milliseconds read_wait)
    : redis_(std::move(redis)), read_wait_(read_wait), thread_([this] { Run(); }) {}

JobWaiters::~JobWaiters() { Stop(); }

int64_t JobWaiters::Add(const std::string& queue, const std::string& id, Wake wake) {
  int64_t ticket;
  {
    std::lock_guard lock(mu_);
    ticket = ++next_ticket_;
    waiters_.emplace(ticket, Waiter{queue, id, std::move(wake)});
  }
  changed_.notify_all();
  return ticket;
}

void JobWaiters::Remove(int64_t ticket) {
  std::lock_guard lock(mu_);
  waiters_.erase(ticket);
}

size_t JobWaiters::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

void JobWaiters::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The wakes hold their requests' answers: they go now, while the server that would send
  // them still exists.
  std::map<int64_t, Waiter> left;
  {
    std::lock_guard lock(mu_);
    left.swap(waiters_);
  }
}

void JobWaiters::Run() {
  std::unique_ptr<Inspector> inspector;
  std::vector<EventCursor> cursors;  // one per queue with waiters, kept while it has any
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !waiters_.empty(); });
    if (stopping_) return;
    // Follow the queues that have waiters; a queue's cursor starts at the first read after its
    // first waiter came (events before it are of no interest: the waiter read the job after).
    std::set<std::string> queues;
    for (const auto& [ticket, waiter] : waiters_) queues.insert(waiter.queue);
    lock.unlock();
    std::erase_if(cursors, [&](const EventCursor& c) { return !queues.count(c.queue); });
    for (const std::string& queue : queues) {
      if (std::none_of(cursors.begin(), cursors.end(),
                       [&](const EventCursor& c) { return c.queue == queue; })) {
        cursors.push_back({queue, ""});
      }
    }
    if (!inspector) {
      auto opened = Inspector::Open(redis_);
      if (opened.ok()) inspector = std::move(*opened);
    }
    Result<std::vector<JobEvent>> events = Status(StatusCode::kUnavailable, "no connection");
    if (inspector) events = inspector->WaitEvents(cursors, read_wait_);
    if (!events.ok()) {
      spdlog::debug("job waiters: {}", events.status().ToString());
      lock.lock();
      // Redis unreachable: the callers' own timers re-read the jobs meanwhile.
      changed_.wait_for(lock, read_wait_, [this] { return stopping_; });
      continue;
    }
    std::vector<Wake> woken;
    lock.lock();
    for (const JobEvent& event : *events) {
      const bool listed_all = event.count <= static_cast<int64_t>(event.job_ids.size());
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        const Waiter& w = it->second;
        if (w.queue == event.queue &&
            (!listed_all ||
             std::find(event.job_ids.begin(), event.job_ids.end(), w.id) != event.job_ids.end())) {
          woken.push_back(std::move(it->second.wake));
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    lock.unlock();
    for (Wake& wake : woken) wake();
    lock.lock();
  }
}

}  // namespace taskq::api
