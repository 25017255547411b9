#include "handlers/table_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "common/json_text.h"
#include "handlers/csv.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

constexpr size_t kFlushBytes = 64 << 10;
constexpr size_t kMaxXlsxColumns = 16384;
constexpr size_t kMaxXlsxStringChars = 32767;
// Larger integers lose digits as an XLSX number (a double), so they are written as text.
constexpr int64_t kMaxExactDouble = int64_t{1} << 53;

void AppendDouble(std::string* out, double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, ec == std::errc() ? end : buffer);
}

template <typename Int>
void AppendInteger(std::string* out, Int value) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out->append(buffer, ec == std::errc() ? end : buffer);
}

void AppendScalarOr(std::string* out, const json::value& value, bool as_json) {
  switch (value.kind()) {
    case json::kind::null:
      if (as_json) out->append("null");
      return;
    case json::kind::bool_:
      out->append(value.get_bool() ? "true" : "false");
      return;
    case json::kind::int64:
      AppendInteger(out, value.get_int64());
      return;
    case json::kind::uint64:
      AppendInteger(out, value.get_uint64());
      return;
    case json::kind::double_:
      AppendDouble(out, value.get_double());
      return;
    case json::kind::string: {
      const json::string& s = value.get_string();
      if (as_json) {
        AppendJsonString(out, {s.data(), s.size()});
      } else {
        out->append(s.data(), s.size());
      }
      return;
    }
    case json::kind::array:
    case json::kind::object:
      out->append(json::serialize(value));
      return;
  }
}

// A file written through a buffer with plain write(2), so every error is seen where it happens.
class BufferedFile {
 public:
  ~BufferedFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
    buffer_.reserve(kFlushBytes + 4096);
    return Status::Ok();
  }

  std::string& buffer() { return buffer_; }

  Status MaybeFlush() { return buffer_.size() >= kFlushBytes ? Flush() : Status::Ok(); }

  Status Flush() {
    size_t written = 0;
    while (written < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Unavailable("cannot write " + path_ + ": " + std::strerror(errno));
      written += static_cast<size_t>(n);
    }
    buffer_.clear();
    return Status::Ok();
  }

  Status Close() {
    TASKQ_RETURN_IF_ERROR(Flush());
    if (::fsync(fd_) != 0)
      return Unavailable("cannot flush " + path_ + ": " + std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Unavailable("cannot close " + path_ + ": " + std::strerror(errno));
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
};

class CsvTableWriter : public TableWriter {
 public:
  Status Open(const std::string& path) { return file_.Open(path); }

  Status WriteHeader(std::span<const std::string> columns) override {
    AppendCsvRecord(&file_.buffer(), columns);
    return file_.MaybeFlush();
  }

  Status WriteRow(std::span<const json::value> row) override {
    std::string& out = file_.buffer();
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out.push_back(',');
      const json::value& value = row[i];
      if (const json::string* s = value.if_string()) {
        AppendCsvField(&out, {s->data(), s->size()});
      } else {
        cell_.clear();
        AppendCellText(&cell_, value);
        AppendCsvField(&out, cell_);
      }
    }
    out.append("\r\n");
    return file_.MaybeFlush();
  }

  Status Finish() override { return file_.Close(); }

 private:
  BufferedFile file_;
  std::string cell_;  // reused: one allocation for all non-string cells
};

class NdjsonTableWriter : public TableWriter {
 public:
  Status Open(const std::string& path) { return file_.Open(path); }

  Status WriteHeader(std::span<const std::string> columns) override {
    // The quoted keys never change: render them once.
    keys_.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string key = i == 0 ? "{" : ",";
      AppendJsonString(&key, columns[i]);
      key.push_back(':');
      keys_.push_back(std::move(key));
    }
    return Status::Ok();
  }

  Status WriteRow(std::span<const json::value> row) override {
    std::string& out = file_.buffer();
    if (row.empty()) out.push_back('{');
    for (size_t i = 0; i < row.size() && i < keys_.size(); ++i) {
      out.append(keys_[i]);
      AppendJsonValue(&out, row[i]);
    }
    out.append("}\n");
    return file_.MaybeFlush();
  }

  Status Finish() override { return file_.Close(); }

 private:
  BufferedFile file_;
  std::vector<std::string> keys_;
};

// libxlsxwriter in constant_memory mode: each row goes to a temporary file as soon as a later row
// is started, so memory stays flat; the price is that rows must be written in order (they are).
class XlsxTableWriter : public TableWriter {
 public:
  ~XlsxTableWriter() override {
    // Closing also writes the file; without Finish the caller removes it anyway.
    if (workbook_ != nullptr) workbook_close(workbook_);
  }

  Status Open(const std::string& path) {
    path_ = path;
    lxw_workbook_options options{};
    options.constant_memory = LXW_TRUE;
    options.use_zip64 = LXW_TRUE;  // a large sheet may pass 4 GiB uncompressed
    workbook_ = workbook_new_opt(path.c_str(), &options);
    if (workbook_ == nullptr) return Unavailable("xlsx: cannot create workbook " + path);
    sheet_ = workbook_add_worksheet(workbook_, nullptr);
    if (sheet_ == nullptr) return Internal("xlsx: cannot add a worksheet");
    return Status::Ok();
  }

  Status WriteHeader(std::span<const std::string> columns) override {
    if (columns.size() > kMaxXlsxColumns) {
      return Status(
          StatusCode::kResourceExhausted,
          "xlsx: a sheet holds at most 16,384 columns, not " + std::to_string(columns.size()));
    }
    for (size_t i = 0; i < columns.size(); ++i) {
      TASKQ_RETURN_IF_ERROR(WriteString(0, i, columns[i]));
    }
    row_ = 1;
    return Status::Ok();
  }

  Status WriteRow(std::span<const json::value> row) override {
    if (row_ > kMaxXlsxDataRows) {
      return Status(StatusCode::kResourceExhausted,
                    "xlsx: a sheet holds at most 1,048,576 rows (1,048,575 after the header); "
                    "export fewer rows or use csv or ndjson");
    }
    for (size_t i = 0; i < row.size(); ++i) {
      const json::value& value = row[i];
      const auto col = static_cast<lxw_col_t>(i);
      const auto r = static_cast<lxw_row_t>(row_);
      lxw_error error = LXW_NO_ERROR;
      switch (value.kind()) {
        case json::kind::null:
          continue;  // an empty cell
        case json::kind::bool_:
          error = worksheet_write_boolean(sheet_, r, col, value.get_bool(), nullptr);
          break;
        case json::kind::double_:
          error = worksheet_write_number(sheet_, r, col, value.get_double(), nullptr);
          break;
        case json::kind::int64:
          if (value.get_int64() > -kMaxExactDouble && value.get_int64() < kMaxExactDouble) {
            error = worksheet_write_number(sheet_, r, col, static_cast<double>(value.get_int64()),
                                           nullptr);
            break;
          }
          [[fallthrough]];
        default: {
          if (const json::string* s = value.if_string()) {
            TASKQ_RETURN_IF_ERROR(WriteString(row_, i, {s->data(), s->size()}));
          } else {
            cell_.clear();
            AppendCellText(&cell_, value);
            TASKQ_RETURN_IF_ERROR(WriteString(row_, i, cell_));
          }
          continue;
        }
      }
      if (error != LXW_NO_ERROR) return Internal(std::string("xlsx: ") + lxw_strerror(error));
    }
    ++row_;
    return Status::Ok();
  }

  Status Finish() override {
    lxw_workbook* workbook = workbook_;
    workbook_ = nullptr;
    const lxw_error error = workbook_close(workbook);
    if (error != LXW_NO_ERROR) {
      return Unavailable("xlsx: cannot write " + path_ + ": " + lxw_strerror(error));
    }
    // libxlsxwriter closes its FILE without fsync; make the finished file durable before the
    // rename publishes it.
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      const std::string message = "cannot flush " + path_ + ": " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return Unavailable(message);
    }
    ::close(fd);
    return Status::Ok();
  }

 private:
  Status WriteString(int64_t row, size_t col, std::string_view text) {
    // The library takes C strings: a NUL would silently cut the value short.
    if (text.find('\0') != std::string_view::npos) {
      return InvalidArgument("column " + std::to_string(col + 1),
                             "xlsx cells cannot hold NUL characters");
    }
    size_t chars = 0;  // UTF-8 code points: Excel's limit counts characters, not bytes
    for (char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (chars > kMaxXlsxStringChars) {
      return InvalidArgument(
          "column " + std::to_string(col + 1),
          "xlsx cells hold at most 32,767 characters, this one has " + std::to_string(chars));
    }
    text_.assign(text);
    const lxw_error error = worksheet_write_string(
        sheet_, static_cast<lxw_row_t>(row), static_cast<lxw_col_t>(col), text_.c_str(), nullptr);
    if (error != LXW_NO_ERROR) return Internal(std::string("xlsx: ") + lxw_strerror(error));
    return Status::Ok();
  }

  std::string path_;
  lxw_workbook* workbook_ = nullptr;  // owned until Finish or destruction
  lxw_worksheet* sheet_ = nullptr;    // owned by workbook_
  int64_t row_ = 0;                   // the next row to write (0-based; 0 is the header)
  std::string cell_, text_;           // reused buffers
};

template <typename Writer>
Result<std::unique_ptr<TableWriter>> Open(const std::string& path) {
  auto writer = std::make_unique<Writer>();
  TASKQ_RETURN_IF_ERROR(writer->Open(path));
  return std::unique_ptr<TableWriter>(std::move(writer));
}

}  // namespace

void AppendCellText(std::string* out, const json::value& value) {
  AppendScalarOr(out, value, false);
}

void AppendJsonValue(std::string* out, const json::value& value) {
  AppendScalarOr(out, value, true);
}

Result<std::unique_ptr<TableWriter>> OpenTableWriter(ExportFormat format, const std::string& path) {
  switch (format) {
    case ExportFormat::kCsv:
      return Open<CsvTableWriter>(path);
    case ExportFormat::kNdjson:
      return Open<NdjsonTableWriter>(path);
    case ExportFormat::kXlsx:
      return Open<XlsxTableWriter>(path);
  }
  return Internal("unknown export format");
}

}  // namespace taskq::handlers
