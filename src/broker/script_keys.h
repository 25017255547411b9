// The KEYS each queue script takes, in the order its contract header (src/broker/lua/<name>.lua)
// lists them: written once here, used by RedisBroker and by the script tests, so the three places
// that must agree (header, broker, tests) come down to two, and a test of a script calls it as
// the broker does. Keys a script finds at run time derive from KEYS[1]'s hash tag (base).
#pragma once

#include <string>
#include <vector>

#include "broker/keys.h"

namespace taskq::broker {

using ScriptKeys = std::vector<std::string>;

inline ScriptKeys EnqueueKeys(const QueueKeys& k) {
  return {k.wait(), k.prioritized(), k.delayed(), k.meta(), k.state()};
}
inline ScriptKeys EnqueueOneKeys(const QueueKeys& k) { return {k.wait(), k.meta()}; }
inline ScriptKeys ClaimKeys(const QueueKeys& k) {
  return {k.wait(),   k.prioritized(), k.delayed(), k.retry(),
          k.active(), k.meta(),        k.state(),   k.rate_window()};
}
inline ScriptKeys CompleteKeys(const QueueKeys& k) {
  return {k.active(), k.completed(), k.meta(), k.state(), k.results()};
}
inline ScriptKeys FailKeys(const QueueKeys& k) {
  return {k.active(), k.retry(), k.dead(), k.meta(), k.state()};
}
inline ScriptKeys PostponeKeys(const QueueKeys& k) { return {k.active(), k.delayed(), k.state()}; }
inline ScriptKeys ProgressKeys(const QueueKeys& k) { return {k.state(), k.progress()}; }
inline ScriptKeys OverrunKeys(const QueueKeys& k) { return {k.state(), k.overrun(), k.meta()}; }
inline ScriptKeys ExtendKeys(const QueueKeys& k) { return {k.active(), k.state()}; }
inline ScriptKeys RecoverKeys(const QueueKeys& k) {
  return {k.active(), k.wait(), k.prioritized(), k.dead(), k.meta(), k.state()};
}
inline ScriptKeys ReleaseKeys(const QueueKeys& k) {
  return {k.active(), k.wait(), k.prioritized(), k.meta(), k.state()};
}
inline ScriptKeys LostClaimKeys(const QueueKeys& k) { return {k.active(), k.state()}; }
inline ScriptKeys PromoteKeys(const QueueKeys& k) {
  return {k.delayed(), k.retry(), k.wait(), k.prioritized(), k.meta(), k.state()};
}
inline ScriptKeys RemoveKeys(const QueueKeys& k) {
  return {k.wait(),   k.prioritized(), k.delayed(), k.retry(),
          k.active(), k.completed(),   k.dead(),    k.state()};
}
inline ScriptKeys RetryDeadKeys(const QueueKeys& k) {
  return {k.dead(), k.wait(), k.prioritized(), k.meta(), k.state()};
}
inline ScriptKeys FlowCommitKeys(const QueueKeys& k) {
  return {k.wait(), k.prioritized(), k.delayed(), k.meta(), k.state(), k.held()};
}
inline ScriptKeys FlowReadKeys(const QueueKeys& k) { return {k.delayed(), k.state()}; }
// flow_deliver.lua and flow_apply.lua.
inline ScriptKeys FlowEntryKeys(const QueueKeys& k) { return FlowCommitKeys(k); }
inline ScriptKeys JobStatesKeys(const QueueKeys& k) { return FlowReadKeys(k); }
inline ScriptKeys BatchCommitKeys(const QueueKeys& k) { return FlowCommitKeys(k); }
inline ScriptKeys BatchCloseKeys(const QueueKeys& k) { return {k.meta()}; }
inline ScriptKeys BatchCancelKeys(const QueueKeys& k) { return {k.meta(), k.held()}; }
inline ScriptKeys PauseKeys(const QueueKeys& k) { return {k.meta()}; }
inline ScriptKeys ShareMoveKeys(const QueueKeys& k) {
  return {k.meta(), k.active(), k.wait(), k.prioritized()};
}
inline ScriptKeys ShardLayoutKeys(const QueueKeys& k) {
  return {k.meta(),   k.wait(), k.prioritized(), k.delayed(), k.retry(),
          k.active(), k.held(), k.jobs(),        k.outbox()};
}
inline ScriptKeys QueueLimitsKeys(const QueueKeys& k) {
  return {k.meta(), k.rate_window(), k.active()};
}
inline ScriptKeys GetJobKeys(const QueueKeys& k) {
  return {k.delayed(), k.retry(), k.state(), k.results(), k.progress()};
}
inline ScriptKeys GroupPageKeys(const QueueKeys& k) { return {k.group_ring(), k.groups_held()}; }
// outbox_take.lua and outbox_ack.lua.
inline ScriptKeys OutboxKeys(const QueueKeys& k) { return {k.outbox(), k.outbox_lease()}; }
inline ScriptKeys HistoryRecordKeys(const QueueKeys& k) {
  return {k.history(), k.meta(), k.wait(), k.prioritized()};
}
// state_page.lua: the set of a state kept in one (delayed, retry, active, completed or dead).
inline ScriptKeys StatePageKeys(const std::string& set) { return {set}; }
// clean.lua: the completed or the dead set.
inline ScriptKeys CleanKeys(const QueueKeys& k, bool dead) {
  return {dead ? k.dead() : k.completed()};
}
// schedule_save, schedule_remove, schedule_pause, schedule_advance and schedule_list.
inline ScriptKeys ScheduleKeysOf(const ScheduleKeys& k) {
  return {k.definitions(), k.state(), k.due()};
}
// schedule_advance.lua, schedule_list.lua and schedule_remove.lua: those and the missed counts.
inline ScriptKeys ScheduleCountedKeysOf(const ScheduleKeys& k) {
  return {k.definitions(), k.state(), k.due(), k.missed()};
}

}  // namespace taskq::broker
