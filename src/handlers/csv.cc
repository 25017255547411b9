#include "handlers/csv.h"

#include <streambuf>

namespace taskq::handlers {

void AppendCsvField(std::string* out, std::string_view field) {
  if (field.find_first_of("\",\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvRecord(std::string* out, std::span<const std::string> fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCsvField(out, fields[i]);
  }
  out->append("\r\n");
}

CsvReader::CsvReader(std::istream& in, CsvReaderOptions options) : in_(in), options_(options) {}

Status CsvReader::Error(const std::string& what) const {
  return InvalidArgument("line " + std::to_string(record_line_), what);
}

Result<bool> CsvReader::Next(std::vector<std::string>* fields) {
  using Traits = std::streambuf::traits_type;
  std::streambuf* buf = in_.rdbuf();
  fields->clear();
  record_line_ = line_;
  if (buf == nullptr || Traits::eq_int_type(buf->sgetc(), Traits::eof())) return false;

  size_t record_bytes = 0;
  std::string field;
  // After a closing quote only ',' or the end of the record may follow.
  enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote } state = State::kFieldStart;
  auto end_field = [&]() -> Status {
    if (fields->size() >= options_.max_fields) {
      return Error("has more than " + std::to_string(options_.max_fields) + " fields");
    }
    fields->push_back(std::move(field));
    field.clear();
    return Status::Ok();
  };
  for (;;) {
    const auto next = buf->sbumpc();
    if (Traits::eq_int_type(next, Traits::eof())) {
      if (state == State::kQuoted) return Error("a quoted field is not closed");
      TASKQ_RETURN_IF_ERROR(end_field());
      return true;
    }
    const char c = Traits::to_char_type(next);
    if (++record_bytes > options_.max_record_bytes) {
      return Error("record is longer than " + std::to_string(options_.max_record_bytes) + " bytes");
    }
    if (c == '\n') ++line_;
    switch (state) {
      case State::kQuoted:
        if (c == '"') {
          if (Traits::eq_int_type(buf->sgetc(), Traits::to_int_type('"'))) {
            buf->sbumpc();
            ++record_bytes;
            field.push_back('"');
          } else {
            state = State::kAfterQuote;
          }
        } else {
          field.push_back(c);
        }
        continue;
      case State::kFieldStart:
        if (c == '"') {
          state = State::kQuoted;
          continue;
        }
        break;
      case State::kUnquoted:
        if (c == '"') return Error("a '\"' inside an unquoted field (quote the whole field)");
        break;
      case State::kAfterQuote:
        if (c != ',' && c != '\r' && c != '\n') {
          return Error("text after the closing '\"' of a quoted field");
        }
        break;
    }
    if (c == ',') {
      TASKQ_RETURN_IF_ERROR(end_field());
      state = State::kFieldStart;
    } else if (c == '\n') {
      TASKQ_RETURN_IF_ERROR(end_field());
      return true;
    } else if (c == '\r') {
      // CRLF ends the record; a lone CR outside quotes is kept as data only in the middle of a
      // field, where no reader could mistake it.
      if (Traits::eq_int_type(buf->sgetc(), Traits::to_int_type('\n'))) {
        buf->sbumpc();
        ++line_;
        TASKQ_RETURN_IF_ERROR(end_field());
        return true;
      }
      if (state == State::kAfterQuote) return Error("a bare CR after a quoted field");
      field.push_back(c);
      state = State::kUnquoted;
    } else {
      field.push_back(c);
      state = State::kUnquoted;
    }
  }
}

}  // namespace taskq::handlers
