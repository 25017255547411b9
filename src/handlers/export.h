// The built-in `export` job type: writes rows (inline, from a file, or a queue's job history) to a
// CSV, NDJSON or XLSX file below the exports directory, streaming, so memory stays flat whatever
// the row count. Data fields, results and errors are documented in docs/job-types.md.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

struct ExportOptions {
  // Where output files go: `output` in the data is a path relative to it (created if missing;
  // relative to the worker's working directory).
  std::string exports_dir = "data/exports";
  // Files a `file` source may read lie below it (after resolving symbolic links).
  std::string input_root = "data/imports";
  // For `queue` sources (the job history, through taskq::Inspector). Empty: such jobs fail.
  std::string redis_url;
  std::string key_prefix = "taskq";
  size_t max_inline_rows = 10000;  // `rows` given in the job's data
};

// Checks a job's data without touching files or Redis. Errors name the field: "data.format",
// "data.source.rows[3]", "data.columns[2]", "data.output" (StatusCode::kInvalidArgument).
// Limits are those of a default ExportOptions.
Status ValidateExportData(std::string_view data_json);

// The handler validates the data again when it runs. It blocks on file I/O (and Redis for queue
// sources), so it must run on a handler thread (not run_inline). Safe to call from several threads
// at once.
Handler MakeExportHandler(ExportOptions options);

}  // namespace taskq::handlers
