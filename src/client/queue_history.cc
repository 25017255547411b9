#include "client/queue_history.h"

#include <map>
#include <optional>

namespace taskq::client {
namespace {

std::optional<int64_t> Difference(int64_t now, int64_t before) {
  if (now < before) return std::nullopt;
  return now - before;
}

void AddKnown(std::optional<int64_t>& sum, const std::optional<int64_t>& value) {
  if (value) sum = sum.value_or(0) + *value;
}

}  // namespace

std::vector<QueueHistoryRow> HistoryRows(std::span<const QueueHistorySample> samples,
                                         int64_t since_ms) {
  std::vector<QueueHistoryRow> rows;
  for (size_t i = 0; i < samples.size(); ++i) {
    const QueueHistorySample& s = samples[i];
    if (s.start_ms < since_ms) continue;
    QueueHistoryRow& row = rows.emplace_back();
    row.start_ms = s.start_ms;
    row.waiting = s.waiting;
    if (i == 0) continue;
    const QueueHistorySample& before = samples[i - 1];
    if (before.start_ms + before.bucket_ms != s.start_ms) continue;  // a gap: span unknown
    auto enqueued = Difference(s.enqueued_total, before.enqueued_total);
    auto processed = Difference(s.completed_total, before.completed_total);
    auto failed = Difference(s.failed_total, before.failed_total);
    auto dead = Difference(s.dead_total, before.dead_total);
    if (!enqueued || !processed || !failed || !dead) continue;  // the queue's data was removed
    row.enqueued = enqueued;
    row.processed = processed;
    row.failed = failed;
    row.dead = dead;
  }
  return rows;
}

std::vector<QueueHistoryRow> SumHistoryRows(const std::vector<std::vector<QueueHistoryRow>>& rows) {
  std::map<int64_t, QueueHistoryRow> by_start;
  for (const auto& queue_rows : rows) {
    for (const QueueHistoryRow& row : queue_rows) {
      QueueHistoryRow& sum = by_start[row.start_ms];
      sum.start_ms = row.start_ms;
      sum.waiting += row.waiting;
      AddKnown(sum.enqueued, row.enqueued);
      AddKnown(sum.processed, row.processed);
      AddKnown(sum.failed, row.failed);
      AddKnown(sum.dead, row.dead);
    }
  }
  std::vector<QueueHistoryRow> out;
  out.reserve(by_start.size());
  for (auto& [start, row] : by_start) out.push_back(std::move(row));
  return out;
}

}  // namespace taskq::client
