#include "broker/keys.h"

#include "broker/cluster_slots.h"

namespace taskq::broker {

QueueKeys::QueueKeys(std::string_view prefix, std::string_view queue)
    : queue_(queue),
      base_(std::string(prefix) + ":{" + std::string(queue) + "}:"),
      slot_(KeySlot(base_)),
      wait_(base_ + "wait"),
      prioritized_(base_ + "prio"),
      delayed_(base_ + "delayed"),
      retry_(base_ + "retry"),
      active_(base_ + "active"),
      completed_(base_ + "completed"),
      dead_(base_ + "dead"),
      meta_(base_ + "meta"),
      jobs_(base_ + "jobs"),
      state_(base_ + "state"),
      results_(base_ + "result"),
      progress_(base_ + "progress"),
      overrun_(base_ + "overrun"),
      metrics_(base_ + "metrics"),
      rate_window_(base_ + "rl"),
      group_ring_(base_ + "gring"),
      groups_held_(base_ + "gheld"),
      wake_channel_(base_ + "wake"),
      events_(base_ + "events"),
      with_lists_(base_ + "x"),
      hooks_(base_ + "hooks"),
      outbox_(base_ + "outbox"),
      outbox_lease_(base_ + "outbox:lease"),
      history_(base_ + "history"),
      held_(base_ + "held") {}

std::string QueueRegistryKey(std::string_view prefix) { return std::string(prefix) + ":queues"; }
std::string WorkerRegistryKey(std::string_view prefix) {
  return std::string(prefix) + ":{:workers}";
}

ScheduleKeys::ScheduleKeys(std::string_view prefix)
    : slot_(KeySlot(":{:schedules}")),
      definitions_(std::string(prefix) + ":{:schedules}"),
      state_(definitions_ + ":state"),
      due_(definitions_ + ":due"),
      leader_(definitions_ + ":leader"),
      missed_(definitions_ + ":missed") {}

}  // namespace taskq::broker
