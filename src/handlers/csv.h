// CSV per RFC 4180, both ways, streaming: the writer appends one record at a time to a buffer the
// caller flushes; the reader pulls one record at a time from a stream, so neither ever holds more
// than a record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/status.h"

namespace taskq::handlers {

// Appends `field`, quoted when it holds '"', ',', CR or LF (inner quotes doubled). Fields that
// need no quotes are written as they are, so numbers stay numbers for spreadsheet tools.
void AppendCsvField(std::string* out, std::string_view field);

// Appends the fields separated by ',' and ends the record with CRLF.
void AppendCsvRecord(std::string* out, std::span<const std::string> fields);

struct CsvReaderOptions {
  size_t max_record_bytes = 16 << 20;  // a longer record is an error, not unbounded memory
  size_t max_fields = 16384;
};

// Reads records as RFC 4180 writes them: fields separated by ',', records by CRLF; fields may be
// quoted, and quoted fields may hold ',', '"' (doubled) and line breaks. Lenient where files made
// by other tools differ harmlessly: a bare LF also ends a record, and the last record may lack its
// line break. A quote inside an unquoted field, text after a closing quote, or an unterminated
// quoted field is an error naming the line.
class CsvReader {
 public:
  explicit CsvReader(std::istream& in, CsvReaderOptions options = {});

  // Fills `fields` with the next record. Returns false at the end of the input. A blank line is a
  // record with one empty field, as RFC 4180 reads it.
  Result<bool> Next(std::vector<std::string>* fields);

  // The line the last record returned by Next started on (1-based), for error messages.
  int64_t record_line() const { return record_line_; }

 private:
  Status Error(const std::string& what) const;

  std::istream& in_;
  CsvReaderOptions options_;
  int64_t line_ = 1;  // line of the next character
  int64_t record_line_ = 0;
};

}  // namespace taskq::handlers
