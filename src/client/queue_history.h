// From a queue's history samples to what happened in each bucket (include/taskq/queue_history.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "taskq/queue_history.h"

namespace taskq::client {

// Rows for the samples (oldest first, as recorded) that start at or after `since_ms`. A row's
// counts are its sample's counters less those of the sample just before it, when that one is of
// the bucket just before (its start plus its bucket length) and no counter went down; else they
// are unknown. The first sample read serves only as the one before the second.
std::vector<QueueHistoryRow> HistoryRows(std::span<const QueueHistorySample> samples,
                                         int64_t since_ms);

// The rows of several queues added bucket by bucket (GET /api/history): a count is the sum of
// the known ones, unknown when no queue knows it.
std::vector<QueueHistoryRow> SumHistoryRows(const std::vector<std::vector<QueueHistoryRow>>& rows);

}  // namespace taskq::client
