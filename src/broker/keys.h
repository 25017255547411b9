// Every Redis key name taskq uses is built here (documented in docs/redis-keys.md). All keys of one
// queue share the hash tag "{queue}", so each script touches a single Redis Cluster slot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace taskq::broker {

class QueueKeys {
 public:
  QueueKeys(std::string_view prefix, std::string_view queue);

  const std::string& queue() const { return queue_; }
  // "taskq:{email}:": scripts derive the other keys from it (jobs, x, e:<id>, l:<id>, ...).
  const std::string& base() const { return base_; }
  // The Redis Cluster hash slot of every key here (cluster_slots.h).
  uint16_t slot() const { return slot_; }

  const std::string& wait() const { return wait_; }                // LIST, priority-0 jobs, FIFO
  const std::string& prioritized() const { return prioritized_; }  // ZSET, priority != 0
  const std::string& delayed() const { return delayed_; }          // ZSET, score = due ms
  const std::string& retry() const { return retry_; }              // ZSET, score = due ms
  const std::string& active() const { return active_; }        // ZSET, score = lease deadline ms
  const std::string& completed() const { return completed_; }  // ZSET, score = finished ms
  const std::string& dead() const { return dead_; }            // ZSET, score = finished ms
  const std::string& meta() const { return meta_; }            // HASH, paused, counters
  const std::string& jobs() const { return jobs_; }            // HASH, id -> body
  const std::string& state() const { return state_; }          // HASH, id -> state record
  const std::string& results() const { return results_; }      // HASH, id -> result JSON
  const std::string& progress() const { return progress_; }    // HASH, id -> progress JSON
  const std::string& overrun() const { return overrun_; }      // HASH, id -> token:since:timeout
  const std::string& metrics() const { return metrics_; }      // HASH, timing histograms
  const std::string& rate_window() const { return rate_window_; }    // ZSET, rate limit window
  const std::string& group_ring() const { return group_ring_; }      // LIST, groups' turns
  const std::string& groups_held() const { return groups_held_; }    // ZSET, held groups
  const std::string& wake_channel() const { return wake_channel_; }  // pub/sub channel
  const std::string& events() const { return events_; }              // STREAM, capped job events
  const std::string& with_lists() const { return with_lists_; }      // SET, jobs with e:/l: lists
  const std::string& hooks() const { return hooks_; }    // HASH, id -> what its finish reports
  const std::string& outbox() const { return outbox_; }  // STREAM, entries for other keys
  const std::string& outbox_lease() const { return outbox_lease_; }  // STRING, relay's token
  const std::string& history() const { return history_; }  // STREAM, one sample per bucket
  const std::string& held() const { return held_; }  // ZSET, held flow parents, score = held ms
  std::string job_errors(std::string_view id) const { return base_ + "e:" + std::string(id); }
  std::string job_logs(std::string_view id) const { return base_ + "l:" + std::string(id); }
  // ZSET: a group's waiting jobs, scored like prio (requeue.lua)
  std::string group_waiting(std::string_view group) const {
    return base_ + "gw:" + std::string(group);
  }
  // A flow's record (HASH: its state and its parents' joins), its tree (HASH, ref -> parent and
  // policy) and one parent's children's outcomes (HASH, child ref -> result or error): flows.lua.
  std::string flow(std::string_view flow_key) const {
    return base_ + "flow:" + std::string(flow_key);
  }
  std::string flow_tree(std::string_view flow_key) const { return flow(flow_key) + ":tree"; }
  std::string flow_results(std::string_view flow_key, std::string_view parent_ref) const {
    return flow(flow_key) + ":r:" + std::string(parent_ref);
  }

 private:
  std::string queue_;
  std::string base_;
  uint16_t slot_;
  // Built once: the hot paths pass them with every script call.
  std::string wait_;
  std::string prioritized_;
  std::string delayed_;
  std::string retry_;
  std::string active_;
  std::string completed_;
  std::string dead_;
  std::string meta_;
  std::string jobs_;
  std::string state_;
  std::string results_;
  std::string progress_;
  std::string overrun_;
  std::string metrics_;
  std::string rate_window_;
  std::string group_ring_;
  std::string groups_held_;
  std::string wake_channel_;
  std::string events_;
  std::string with_lists_;
  std::string hooks_;
  std::string outbox_;
  std::string outbox_lease_;
  std::string history_;
  std::string held_;
};

// SET of every queue name ever enqueued to (outside any queue's slot, so written on its own).
std::string QueueRegistryKey(std::string_view prefix);
// HASH of live workers, id -> description (worker_heartbeat.lua). Its hash tag "{:workers}" can
// be no queue's: queue names cannot start with ':'.
std::string WorkerRegistryKey(std::string_view prefix);

// Every key of the schedules, under the hash tag "{:schedules}" (no queue's: queue names cannot
// start with ':'), so each schedule script touches one Cluster slot.
class ScheduleKeys {
 public:
  explicit ScheduleKeys(std::string_view prefix);
  const std::string& definitions() const { return definitions_; }  // HASH, id -> JSON
  const std::string& state() const { return state_; }              // HASH, id -> state record
  const std::string& due() const { return due_; }                  // ZSET, score = next fire ms
  const std::string& leader() const { return leader_; }  // STRING, the scheduler lease's holder
  const std::string& missed() const { return missed_; }  // HASH, id -> fire times missed
  uint16_t slot() const { return slot_; }  // the Redis Cluster hash slot of every key here

 private:
  uint16_t slot_;
  std::string definitions_;
  std::string state_;
  std::string due_;
  std::string leader_;
  std::string missed_;
};

}  // namespace taskq::broker
