// Every Redis key name taskq uses is built here (documented in docs/redis-keys.md). All keys of one
// queue share the hash tag "{queue}", so each script touches a single Redis Cluster slot.
#pragma once

#include <string>
#include <string_view>

namespace taskq::broker {

class QueueKeys {
 public:
  QueueKeys(std::string_view prefix, std::string_view queue);

  const std::string& queue() const { return queue_; }
  // "taskq:{email}:": scripts derive per-job keys from it (j:<id>, m:<id>, e:<id>, l:<id>).
  const std::string& base() const { return base_; }

  std::string wait() const { return base_ + "wait"; }          // LIST, priority-0 jobs, FIFO
  std::string prioritized() const { return base_ + "prio"; }   // ZSET, priority != 0
  std::string delayed() const { return base_ + "delayed"; }    // ZSET, score = due ms
  std::string retry() const { return base_ + "retry"; }        // ZSET, score = due ms
  std::string active() const { return base_ + "active"; }      // ZSET, score = lease deadline ms
  std::string completed() const { return base_ + "completed"; }  // ZSET, score = finished ms
  std::string dead() const { return base_ + "dead"; }          // ZSET, score = finished ms
  std::string meta() const { return base_ + "meta"; }          // HASH, paused, counters
  std::string wake_channel() const { return base_ + "wake"; }  // pub/sub channel
  std::string job(std::string_view id) const { return base_ + "j:" + std::string(id); }
  std::string job_state(std::string_view id) const { return base_ + "m:" + std::string(id); }
  std::string job_errors(std::string_view id) const { return base_ + "e:" + std::string(id); }
  std::string job_logs(std::string_view id) const { return base_ + "l:" + std::string(id); }

 private:
  std::string queue_;
  std::string base_;
};

// SET of every queue name ever enqueued to (outside any queue's slot, so written on its own).
std::string QueueRegistryKey(std::string_view prefix);

}  // namespace taskq::broker
