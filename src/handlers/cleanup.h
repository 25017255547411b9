// The built-in `cleanup` job type: removes finished jobs of a queue (through taskq::Inspector) or
// old files below configured directories, or counts what it would remove (dry run). Data fields,
// results and errors are documented in docs/job-types.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

struct CleanupOptions {
  // The only directories (and what lies below them) whose files a job may delete; relative to the
  // worker's working directory. Symbolic links are resolved before comparing.
  std::vector<std::string> roots = {"data/outbox", "data/exports"};
  // For `jobs` targets. Empty: such jobs fail.
  std::string redis_url;
  std::string key_prefix = "taskq";
};

// Checks a job's data without touching files or Redis. Errors name the field: "data.target",
// "data.older_than_ms", "data.glob", ... (StatusCode::kInvalidArgument). Whether a directory lies
// below a root is only known when the job runs.
Status ValidateCleanupData(std::string_view data_json);

// Blocks on file system and Redis calls: run on a handler thread (not run_inline). Safe to call
// from several threads at once.
Handler MakeCleanupHandler(CleanupOptions options);

}  // namespace taskq::handlers
