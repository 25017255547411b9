// The stored form of a worker's description (the worker registry, docs/redis-keys.md).
#pragma once

#include <string>
#include <string_view>

#include "taskq/status.h"
#include "taskq/worker_info.h"

namespace taskq {

// A JSON object without "hb" (Redis adds it, worker_heartbeat.lua).
std::string EncodeWorkerInfo(const WorkerInfo& info);
// Reads a stored description, "hb" included.
Result<WorkerInfo> DecodeWorkerInfo(std::string_view json);
// Renders a description for the HTTP API (heartbeat age from `now_ms`).
std::string WorkerInfoJson(const WorkerInfo& info, int64_t now_ms);

}  // namespace taskq
