// A job's state record: field <id> of its queue's `state` hash, "st:a:s:ts:tf:p:tk:cx", written
// by the scripts (src/broker/lua/include/state.lua holds the format and its rules). Read here for
// job replies, and by the tests and the model test that check what the scripts wrote.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskq::broker {

struct StateRecord {
  std::string state;              // st: "" never claimed, or waiting, active, retrying, ...
  int64_t attempts = 0;           // a: attempts started
  int64_t stalls = 0;             // s: leases that expired
  int64_t started_ms = 0;         // ts
  int64_t finished_ms = 0;        // tf
  int64_t priority = 0;           // p
  std::string token;              // tk: the current lease's fencing token in base 36; "" if none
  bool cancel_requested = false;  // cx

  bool operator==(const StateRecord&) const = default;
};

// nullopt when `text` is not a record the scripts' decode_state would read: eight fields, st
// letters only, a, s, ts, tf decimal digits, p an optional '-' and digits, tk letters and
// digits, cx 0 or 1.
std::optional<StateRecord> ParseStateRecord(std::string_view text);
// The record as the scripts write it.
std::string EncodeStateRecord(const StateRecord& record);

}  // namespace taskq::broker
