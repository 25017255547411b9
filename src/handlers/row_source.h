// Where the rows of an export come from, one row at a time: the job's inline rows, an NDJSON or
// CSV file, or the job history of a queue (through taskq::Inspector, page by page). Only the rows
// of the current step are held (the inline rows are part of the job's data anyway).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "taskq/inspector.h"
#include "taskq/job.h"
#include "taskq/status.h"

namespace taskq::handlers {

class RowSource {
 public:
  virtual ~RowSource() = default;

  // Decides the columns, once, before Next: `requested` when not empty (names the source does not
  // have are an error naming "data.columns[i]" where the source can tell), otherwise the source's
  // own: the keys of the first object row, the first array row (then a header, not data), the
  // header record of a CSV file, or the fixed fields of a job.
  virtual Result<std::vector<std::string>> Columns(const std::vector<std::string>& requested) = 0;

  // Fills `row` with the next row, one value per column (null where a row lacks one). Returns
  // false at the end. Errors name the row ("data.source.rows[3]", "data.source.file: line 12").
  virtual Result<bool> Next(std::vector<boost::json::value>* row) = 0;
};

// The rows of the job's data (`rows`, an array of arrays or objects; the source takes it).
std::unique_ptr<RowSource> MakeInlineRowSource(boost::json::array rows);

struct FileRowSourceOptions {
  size_t max_line_bytes = 16 << 20;  // one NDJSON line or CSV record
};

// An NDJSON file (one JSON object or array per line; blank lines are skipped) or a CSV file
// (RFC 4180, the first record is the header), read from `file`, an open descriptor (the source
// owns it; see rooted_file.h for opening one below a directory). `display` names the file in
// errors.
std::unique_ptr<RowSource> MakeNdjsonFileSource(UniqueFd file, std::string display,
                                                FileRowSourceOptions options = {});
std::unique_ptr<RowSource> MakeCsvFileSource(UniqueFd file, std::string display,
                                             FileRowSourceOptions options = {});

// Jobs of one queue in one state, as rows with the columns of JobHistoryColumns().
struct JobHistoryQuery {
  std::string queue;
  JobState state = JobState::kCompleted;
  // Completed and dead jobs by finished_ms, other states by created_ms: from_ms <= t < to_ms.
  std::optional<int64_t> from_ms, to_ms;
  int64_t page_size = 100;  // jobs per Inspector::List call (each carries its data and result)
};
const std::vector<std::string>& JobHistoryColumns();
// Borrows `inspector` for the source's lifetime.
std::unique_ptr<RowSource> MakeJobHistorySource(Inspector& inspector, JobHistoryQuery query);

}  // namespace taskq::handlers
