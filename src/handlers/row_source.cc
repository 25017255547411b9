#include "handlers/row_source.h"

#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>
#include <deque>
#include <istream>
#include <unordered_map>

#include "handlers/csv.h"
#include "handlers/fd_read_buffer.h"
#include "handlers/table_writer.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

std::string Text(const json::value& value) {
  std::string out;
  AppendCellText(&out, value);
  return out;
}

// Sources whose rows are JSON values (inline rows, NDJSON lines): each row is an object (values
// picked by column name) or an array (values by position, exactly one per column).
class JsonRowSource : public RowSource {
 public:
  Result<std::vector<std::string>> Columns(const std::vector<std::string>& requested) override {
    auto first = NextValue();
    if (!first.ok()) return first.status();
    pending_ = std::move(*first);
    if (!requested.empty()) {
      columns_ = requested;
    } else if (pending_) {
      if (const json::object* object = pending_->if_object()) {
        for (const auto& entry : *object) columns_.emplace_back(entry.key());
      } else if (const json::array* header = pending_->if_array()) {
        for (const json::value& name : *header) columns_.push_back(Text(name));
        pending_.reset();  // the header is not data
      } else {
        return RowError("must be a JSON object or array");
      }
    }
    return columns_;
  }

  Result<bool> Next(std::vector<json::value>* row) override {
    std::optional<json::value> value;
    if (pending_) {
      value = std::move(pending_);
      pending_.reset();
    } else {
      auto next = NextValue();
      if (!next.ok()) return next.status();
      value = std::move(*next);
    }
    if (!value) return false;
    row->resize(columns_.size());
    if (json::object* object = value->if_object()) {
      for (size_t i = 0; i < columns_.size(); ++i) {
        json::value* cell = object->if_contains(columns_[i]);
        (*row)[i] = cell != nullptr ? std::move(*cell) : json::value(nullptr);
      }
      return true;
    }
    json::array* array = value->if_array();
    if (array == nullptr) return RowError("must be a JSON object or array");
    if (array->size() != columns_.size()) {
      return RowError("has " + std::to_string(array->size()) + " values, but there are " +
                      std::to_string(columns_.size()) + " columns");
    }
    for (size_t i = 0; i < columns_.size(); ++i) (*row)[i] = std::move((*array)[i]);
    return true;
  }

 protected:
  // The next row as it is in the source; nullopt at the end.
  virtual Result<std::optional<json::value>> NextValue() = 0;
  // An error about the row NextValue returned last.
  virtual Status RowError(const std::string& message) const = 0;

 private:
  std::vector<std::string> columns_;
  std::optional<json::value> pending_;  // read by Columns, not yet returned by Next
};

class InlineRowSource : public JsonRowSource {
 public:
  explicit InlineRowSource(json::array rows) : rows_(std::move(rows)) {}

 protected:
  Result<std::optional<json::value>> NextValue() override {
    if (next_ >= rows_.size()) return std::optional<json::value>();
    current_ = next_++;
    return std::optional<json::value>(std::move(rows_[current_]));
  }

  Status RowError(const std::string& message) const override {
    return InvalidArgument("data.source.rows[" + std::to_string(current_) + "]", message);
  }

 private:
  json::array rows_;
  size_t next_ = 0;
  size_t current_ = 0;
};

class NdjsonFileSource : public JsonRowSource {
 public:
  NdjsonFileSource(UniqueFd file, std::string path, FileRowSourceOptions options)
      : path_(std::move(path)), options_(options), buffer_(std::move(file)) {}

 protected:
  Result<std::optional<json::value>> NextValue() override {
    using Traits = std::streambuf::traits_type;
    std::streambuf* buf = &buffer_;
    for (;;) {
      line_.clear();
      bool at_end = true;
      for (auto c = buf->sbumpc(); !Traits::eq_int_type(c, Traits::eof()); c = buf->sbumpc()) {
        at_end = false;
        if (Traits::to_char_type(c) == '\n') break;
        if (line_.size() >= options_.max_line_bytes) {
          ++line_number_;
          return RowError("is longer than " + std::to_string(options_.max_line_bytes) + " bytes");
        }
        line_.push_back(Traits::to_char_type(c));
      }
      if (at_end) {
        if (buffer_.failed()) return Unavailable("cannot read " + path_);
        return std::optional<json::value>();
      }
      ++line_number_;
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      if (line_.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
      boost::system::error_code ec;
      json::value value = json::parse(line_, ec);
      if (ec) return RowError("is not valid JSON: " + ec.message());
      return std::optional<json::value>(std::move(value));
    }
  }

  Status RowError(const std::string& message) const override {
    return InvalidArgument("data.source.file",
                           path_ + ": line " + std::to_string(line_number_) + " " + message);
  }

 private:
  std::string path_;
  FileRowSourceOptions options_;
  FdReadBuffer buffer_;
  std::string line_;  // reused for every line
  int64_t line_number_ = 0;
};

class CsvFileSource : public RowSource {
 public:
  CsvFileSource(UniqueFd file, std::string path, FileRowSourceOptions options)
      : path_(std::move(path)), options_(options), buffer_(std::move(file)), in_(&buffer_) {
    reader_.emplace(in_, CsvReaderOptions{.max_record_bytes = options_.max_line_bytes});
  }

  Result<std::vector<std::string>> Columns(const std::vector<std::string>& requested) override {
    auto read = reader_->Next(&header_);
    if (!read.ok()) return Error(read.status());
    if (!*read) header_.clear();  // an empty file: no columns, no rows
    if (requested.empty()) {
      for (size_t i = 0; i < header_.size(); ++i) picks_.push_back(i);
      return header_;
    }
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < header_.size(); ++i) index.emplace(header_[i], i);
    for (size_t i = 0; i < requested.size(); ++i) {
      auto found = index.find(requested[i]);
      if (found == index.end()) {
        return InvalidArgument(
            "data.columns[" + std::to_string(i) + "]",
            "is not a column of " + path_ + " (its header has no \"" + requested[i] + "\")");
      }
      picks_.push_back(found->second);
    }
    return requested;
  }

  Result<bool> Next(std::vector<json::value>* row) override {
    for (;;) {
      auto read = reader_->Next(&fields_);
      if (!read.ok()) return Error(read.status());
      if (!*read) {
        if (buffer_.failed()) return Unavailable("cannot read " + path_);
        return false;
      }
      // A blank line (often the last one) is not a record of a file with several columns.
      if (fields_.size() == 1 && fields_[0].empty() && header_.size() > 1) continue;
      if (fields_.size() != header_.size()) {
        return InvalidArgument("data.source.file",
                               path_ + ": line " + std::to_string(reader_->record_line()) +
                                   " has " + std::to_string(fields_.size()) +
                                   " fields, the header " + std::to_string(header_.size()));
      }
      row->resize(picks_.size());
      for (size_t i = 0; i < picks_.size(); ++i) {
        (*row)[i] = json::string(fields_[picks_[i]]);
      }
      return true;
    }
  }

 private:
  Status Error(const Status& status) const {
    if (status.code() != StatusCode::kInvalidArgument) return status;
    return InvalidArgument("data.source.file",
                           path_ + ": " + status.field() + " " + status.message());
  }

  std::string path_;
  FileRowSourceOptions options_;
  FdReadBuffer buffer_;
  std::istream in_;
  std::optional<CsvReader> reader_;
  std::vector<std::string> header_;
  std::vector<size_t> picks_;  // for each output column, its field in a record
  std::vector<std::string> fields_;
};

// Completed and dead jobs are listed newest first by finish time, page after page from the last
// job read (taskq/job_cursor.h): a job that finishes while the export runs sorts among the jobs
// already paged past (newest first) and is left out, and jobs removed meanwhile (retention,
// clean, retry) shift nothing, so every job that stays is exported exactly once. Other states
// page by their own cursors.
class JobHistorySource : public RowSource {
 public:
  JobHistorySource(Inspector& inspector, JobHistoryQuery query)
      : inspector_(inspector), query_(std::move(query)) {}

  Result<std::vector<std::string>> Columns(const std::vector<std::string>& requested) override {
    const std::vector<std::string>& all = JobHistoryColumns();
    if (requested.empty()) {
      for (size_t i = 0; i < all.size(); ++i) picks_.push_back(i);
      return all;
    }
    for (size_t i = 0; i < requested.size(); ++i) {
      auto found = std::find(all.begin(), all.end(), requested[i]);
      if (found == all.end()) {
        return InvalidArgument("data.columns[" + std::to_string(i) + "]",
                               "is not a job field (id, queue, type, state, attempts, "
                               "created_ms, started_ms, finished_ms, data, result, error)");
      }
      picks_.push_back(static_cast<size_t>(found - all.begin()));
    }
    return requested;
  }

  Result<bool> Next(std::vector<json::value>* row) override {
    for (;;) {
      if (page_.empty()) {
        if (done_) return false;
        auto page = inspector_.Page(query_.queue, query_.state, next_, query_.page_size);
        if (!page.ok()) return page.status();
        next_ = page->next;
        done_ = page->at_end;
        for (Job& job : page->jobs) page_.push_back(std::move(job));
        continue;  // a page may be empty when its jobs were removed as it was read
      }
      Job job = std::move(page_.front());
      page_.pop_front();
      const bool finished = query_.state == JobState::kCompleted || query_.state == JobState::kDead;
      const int64_t t = finished ? job.finished_ms : job.created_ms;
      if (query_.to_ms && t >= *query_.to_ms) continue;
      if (query_.from_ms && t < *query_.from_ms) {
        if (!finished) continue;
        // Newest first: every job after this one finished earlier still.
        page_.clear();
        done_ = true;
        return false;
      }
      Fill(job, row);
      return true;
    }
  }

 private:
  static json::value ParseOr(const std::string& text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    return ec ? json::value(json::string(text)) : value;
  }

  void Fill(Job& job, std::vector<json::value>* row) const {
    row->resize(picks_.size());
    for (size_t i = 0; i < picks_.size(); ++i) {
      json::value& cell = (*row)[i];
      switch (picks_[i]) {
        case 0:
          cell = json::string(job.id);
          break;
        case 1:
          cell = json::string(job.queue);
          break;
        case 2:
          cell = json::string(job.type);
          break;
        case 3:
          cell = json::string(JobStateName(job.state));
          break;
        case 4:
          cell = job.attempts;
          break;
        case 5:
          cell = job.created_ms;
          break;
        case 6:
          cell = job.started_ms;
          break;
        case 7:
          cell = job.finished_ms;
          break;
        case 8:
          cell = ParseOr(job.data_json);
          break;
        case 9:
          cell = job.result_json.empty() ? json::value(nullptr) : ParseOr(job.result_json);
          break;
        default:
          cell = job.errors.empty() ? json::value(nullptr)
                                    : json::value(json::string(job.errors.front().message));
      }
    }
  }

  Inspector& inspector_;
  JobHistoryQuery query_;
  std::vector<size_t> picks_;  // indexes into JobHistoryColumns()
  std::deque<Job> page_;
  JobCursor next_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<RowSource> MakeInlineRowSource(json::array rows) {
  return std::make_unique<InlineRowSource>(std::move(rows));
}

std::unique_ptr<RowSource> MakeNdjsonFileSource(UniqueFd file, std::string display,
                                                FileRowSourceOptions options) {
  return std::make_unique<NdjsonFileSource>(std::move(file), std::move(display), options);
}

std::unique_ptr<RowSource> MakeCsvFileSource(UniqueFd file, std::string display,
                                             FileRowSourceOptions options) {
  return std::make_unique<CsvFileSource>(std::move(file), std::move(display), options);
}

const std::vector<std::string>& JobHistoryColumns() {
  static const std::vector<std::string> columns = {
      "id",         "queue",       "type", "state",  "attempts", "created_ms",
      "started_ms", "finished_ms", "data", "result", "error"};
  return columns;
}

std::unique_ptr<RowSource> MakeJobHistorySource(Inspector& inspector, JobHistoryQuery query) {
  return std::make_unique<JobHistorySource>(inspector, std::move(query));
}

}  // namespace taskq::handlers
