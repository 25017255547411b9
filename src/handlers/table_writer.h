// Writing a table (a header, then rows of JSON values) to a file as CSV, NDJSON or XLSX, one row
// at a time: nothing but the current row and a fixed-size buffer is held, whatever the row count.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq::handlers {

enum class ExportFormat { kCsv, kNdjson, kXlsx };

// A cell as text (CSV, and XLSX cells that are not numbers or booleans): strings as they are,
// numbers in their shortest round-trip form ("1.5", "42", "1e+300"), true/false, null as "",
// objects and arrays as compact JSON.
void AppendCellText(std::string* out, const boost::json::value& value);

// A value as JSON text, numbers in the same shortest form as AppendCellText.
void AppendJsonValue(std::string* out, const boost::json::value& value);

// The data rows one XLSX sheet can hold: 1,048,576 rows (Excel's limit) less the header row.
inline constexpr int64_t kMaxXlsxDataRows = 1048576 - 1;

class TableWriter {
 public:
  virtual ~TableWriter() = default;

  // Once, before any row. CSV writes a header record, XLSX a header row; NDJSON keeps the names
  // as the keys of every line.
  virtual Status WriteHeader(std::span<const std::string> columns) = 0;
  // One value per column. kResourceExhausted when the format can hold no more rows (XLSX),
  // kInvalidArgument when it cannot hold a value (XLSX: a string over 32,767 characters).
  virtual Status WriteRow(std::span<const boost::json::value> row) = 0;
  // Flushes everything to disk (fsync) and closes the file; after OK the file is complete. A
  // writer destroyed without Finish leaves an incomplete file for the caller to remove.
  virtual Status Finish() = 0;
};

// Creates or truncates `path`.
Result<std::unique_ptr<TableWriter>> OpenTableWriter(ExportFormat format, const std::string& path);

}  // namespace taskq::handlers
