// A queue's past: one sample per time bucket (a minute by default) of its lifetime counters and
// waiting jobs, recorded in Redis by the workers and kept for a day by default (docs/metrics.md,
// "History"), so that charts survive reloads and restarts.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace taskq {

// One sample as recorded (broker/lua/history_record.lua), at the start of its bucket.
struct QueueHistorySample {
  int64_t start_ms = 0;  // the bucket's start, by Redis' clock
  int64_t bucket_ms = 0;
  int64_t enqueued_total = 0;
  int64_t completed_total = 0;
  int64_t failed_total = 0;  // failed attempts
  int64_t dead_total = 0;
  int64_t waiting = 0;
};

// What happened between the sample of the bucket before and this bucket's: the counts are
// nullopt when the bucket before has no sample (no recorder ran then) or a counter went down (the
// queue's data was removed), since the span they cover is then unknown.
struct QueueHistoryRow {
  int64_t start_ms = 0;
  std::optional<int64_t> enqueued;
  std::optional<int64_t> processed;  // completions
  std::optional<int64_t> failed;     // failed attempts
  std::optional<int64_t> dead;
  int64_t waiting = 0;  // when the bucket's sample was taken
};

struct QueueHistory {
  std::vector<QueueHistoryRow> rows;  // oldest first; a bucket without a sample has no row
  int64_t now_ms = 0;                 // Redis' clock
};

}  // namespace taskq
