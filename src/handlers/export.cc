#include "handlers/export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <unordered_set>
#include <vector>

#include "common/field_errors.h"
#include "common/job_states.h"
#include "handlers/data_fields.h"
#include "handlers/file_digest.h"
#include "handlers/rooted_file.h"
#include "handlers/row_source.h"
#include "handlers/safe_path.h"
#include "handlers/table_writer.h"
#include "taskq/inspector.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxColumns = 16384;  // XLSX's limit, applied to every format alike
constexpr size_t kMaxColumnNameBytes = 1024;
constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxQueueNameBytes = 256;
constexpr int64_t kProgressEveryRows = 10000;
// stop_requested() is a virtual call that may take a lock; every row would be wasteful.
constexpr int64_t kStopCheckEveryRows = 256;

enum class SourceKind { kInline, kFile, kQueue };

struct ExportSpec {
  ExportFormat format = ExportFormat::kCsv;
  SourceKind source = SourceKind::kInline;
  json::array rows;                               // kInline
  std::string file;                               // kFile, as given
  ExportFormat file_format = ExportFormat::kCsv;  // kFile: csv or ndjson
  JobHistoryQuery history;                        // kQueue
  std::vector<std::string> columns;               // empty: the source decides
  std::string output;
};

std::optional<ExportFormat> ParseFormat(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "ndjson") return ExportFormat::kNdjson;
  if (name == "xlsx") return ExportFormat::kXlsx;
  return std::nullopt;
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// Each parser of the data below names every invalid field, not only the first (docs/http-api.md,
// "Errors"); a check that needs another field's value runs only once that field was read.

Status ParseInlineSource(const json::object& source, const ExportOptions& options,
                         ExportSpec* spec) {
  FieldErrors errors;
  errors.Check(RejectUnknownKeys(source, {"rows"}, "data.source"));
  const json::array* rows = source.at("rows").if_array();
  if (rows == nullptr) {
    errors.Add(InvalidArgument("data.source.rows", "must be a list of rows"));
  } else if (rows->size() > options.max_inline_rows) {
    errors.Add(InvalidArgument("data.source.rows", "has more than " +
                                                       std::to_string(options.max_inline_rows) +
                                                       " rows (use a file source for more)"));
  } else {
    for (size_t i = 0; i < rows->size(); ++i) {
      if (!(*rows)[i].is_array() && !(*rows)[i].is_object()) {
        errors.Add(InvalidArgument("data.source.rows[" + std::to_string(i) + "]",
                                   "must be an object or a list of values"));
      }
    }
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  spec->source = SourceKind::kInline;
  spec->rows = *rows;
  return Status::Ok();
}

// The file source's format: `name`, or when empty the one the file name's extension tells.
Status ParseFileFormat(std::string name, ExportSpec* spec) {
  if (name.empty()) {
    const std::string extension = fs::path(spec->file).extension().string();
    if (extension == ".csv") name = "csv";
    if (extension == ".ndjson" || extension == ".jsonl") name = "ndjson";
    if (name.empty()) {
      return InvalidArgument("data.source.format",
                             "is required when the file name ends in neither .csv nor .ndjson");
    }
  }
  const auto parsed = ParseFormat(name);
  if (!parsed || *parsed == ExportFormat::kXlsx) {
    return InvalidArgument("data.source.format", "must be \"csv\" or \"ndjson\"");
  }
  spec->file_format = *parsed;
  return Status::Ok();
}

Status ParseFileSource(const json::object& source, ExportSpec* spec) {
  FieldErrors errors;
  errors.Check(RejectUnknownKeys(source, {"file", "format"}, "data.source"));
  auto file = OptionalString(source, "file", "data.source.file", kMaxPathBytes);
  bool file_read = false;
  if (errors.Check(file.status())) {
    if (!*file || (*file)->empty() || HasControlCharacter(**file)) {
      errors.Add(
          InvalidArgument("data.source.file", "must be a file path (below the input directory)"));
    } else {
      spec->file = std::move(**file);
      file_read = true;
    }
  }
  auto format = OptionalString(source, "format", "data.source.format", 16);
  if (errors.Check(format.status())) {
    std::string name = format->value_or("");
    // Without a name, the format comes from the file's.
    if (!name.empty() || file_read) errors.Check(ParseFileFormat(std::move(name), spec));
  }
  spec->source = SourceKind::kFile;
  return std::move(errors).ToStatus();
}

Status ParseQueueSource(const json::object& source, ExportSpec* spec) {
  FieldErrors errors;
  errors.Check(RejectUnknownKeys(source, {"queue", "state", "from_ms", "to_ms"}, "data.source"));
  auto queue = OptionalString(source, "queue", "data.source.queue", kMaxQueueNameBytes);
  if (errors.Check(queue.status())) {
    if (!*queue || (*queue)->empty()) {
      errors.Add(InvalidArgument("data.source.queue", "must be a queue name"));
    } else {
      spec->history.queue = std::move(**queue);
    }
  }
  auto state = OptionalString(source, "state", "data.source.state", 32);
  if (errors.Check(state.status()) && *state) {
    const auto parsed = ParseJobState(**state);
    if (!parsed) {
      errors.Add(InvalidArgument("data.source.state", "must be one of " + JobStateChoices()));
    } else {
      spec->history.state = *parsed;
    }
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  auto from = OptionalInteger(source, "from_ms", "data.source.from_ms", 0, kMax);
  const bool from_read = errors.Check(from.status());
  auto to = OptionalInteger(source, "to_ms", "data.source.to_ms", 0, kMax);
  const bool to_read = errors.Check(to.status());
  if (from_read && to_read) {
    if (*from && *to && **from > **to) {
      errors.Add(InvalidArgument("data.source.to_ms", "must not be before from_ms"));
    }
    spec->history.from_ms = *from;
    spec->history.to_ms = *to;
  }
  spec->source = SourceKind::kQueue;
  return std::move(errors).ToStatus();
}

// `job_fields`: a queue source, whose columns can only be job fields.
Status ParseColumns(const json::value* value, bool job_fields, ExportSpec* spec) {
  if (value == nullptr || value->is_null()) return Status::Ok();
  const json::array* list = value->if_array();
  if (list == nullptr) return InvalidArgument("data.columns", "must be a list of column names");
  if (list->size() > kMaxColumns) {
    return InvalidArgument("data.columns",
                           "has more than " + std::to_string(kMaxColumns) + " columns");
  }
  FieldErrors errors;
  std::unordered_set<std::string_view> seen;
  const std::vector<std::string>& job_columns = JobHistoryColumns();
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string field = "data.columns[" + std::to_string(i) + "]";
    const json::string* name = (*list)[i].if_string();
    if (name == nullptr || name->empty()) {
      errors.Add(InvalidArgument(field, "must be a non-empty string"));
    } else if (name->size() > kMaxColumnNameBytes) {
      errors.Add(InvalidArgument(
          field, "is longer than " + std::to_string(kMaxColumnNameBytes) + " bytes"));
    } else if (!seen.insert(TextOf(*name)).second) {
      errors.Add(InvalidArgument(field, "names a column twice"));
    } else if (job_fields && std::find(job_columns.begin(), job_columns.end(), TextOf(*name)) ==
                                 job_columns.end()) {
      errors.Add(InvalidArgument(field,
                                 "is not a job field (id, queue, type, state, attempts, "
                                 "created_ms, started_ms, finished_ms, data, result, error)"));
    } else {
      spec->columns.emplace_back(TextOf(*name));
    }
  }
  return std::move(errors).ToStatus();
}

Result<ExportSpec> ParseExportData(std::string_view data_json, const ExportOptions& options) {
  auto root = ParseDataObject(data_json);
  if (!root.ok()) return root.status();
  const json::object& data = root->get_object();
  FieldErrors errors;
  errors.Check(RejectUnknownKeys(data, {"format", "source", "columns", "output"}, "data"));
  ExportSpec spec;
  auto format = OptionalString(data, "format", "data.format", 16);
  if (errors.Check(format.status())) {
    const auto parsed_format = ParseFormat(format->value_or(""));
    if (!parsed_format) {
      errors.Add(InvalidArgument("data.format", "must be csv, ndjson or xlsx"));
    } else {
      spec.format = *parsed_format;
    }
  }

  const json::value* source_value = data.if_contains("source");
  const json::object* source = source_value ? source_value->if_object() : nullptr;
  bool queue_source = false;
  if (source == nullptr) {
    errors.Add(InvalidArgument("data.source", "must be an object with rows, a file or a queue"));
  } else if (source->contains("rows") + source->contains("file") + source->contains("queue") != 1) {
    errors.Add(InvalidArgument("data.source", "must have exactly one of rows, file and queue"));
  } else if (source->contains("rows")) {
    errors.Check(ParseInlineSource(*source, options, &spec));
  } else if (source->contains("file")) {
    errors.Check(ParseFileSource(*source, &spec));
  } else {
    queue_source = true;
    errors.Check(ParseQueueSource(*source, &spec));
  }
  errors.Check(ParseColumns(data.if_contains("columns"), queue_source, &spec));

  auto output = OptionalString(data, "output", "data.output", kMaxPathBytes);
  if (errors.Check(output.status())) {
    if (!*output) {
      errors.Add(InvalidArgument("data.output", "is required"));
    } else if (errors.Check(CheckRelativeFilePath(**output, "data.output"))) {
      spec.output = std::move(**output);
    }
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return spec;
}

// ----------------------------------------------------------------------------------------------
// Running a job

// Where the output goes: its directory, opened below the exports directory without following
// any symbolic link (and created as needed), and its name there. Every later step (the temporary
// file, the rename) works relative to that descriptor, so no link swapped in after the check
// can lead the file elsewhere.
struct OutputPlace {
  UniqueFd dir;
  std::string name;
  fs::path display;  // the absolute path, for the result and logs
};

Result<OutputPlace> PrepareOutput(const ExportOptions& options, const std::string& output) {
  std::error_code ec;
  fs::create_directories(options.exports_dir, ec);
  if (ec) return Unavailable("cannot create " + options.exports_dir + ": " + ec.message());
  Result<std::vector<std::string>> components =
      ComponentsBelow(options.exports_dir, output, "data.output");
  if (!components.ok()) return components.status();
  UniqueFd root(::open(options.exports_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return Unavailable("cannot open " + options.exports_dir + ": " + ErrnoText(errno));
  }
  OutputPlace place;
  place.name = components->back();
  components->pop_back();
  Result<UniqueFd> dir =
      OpenDirectoriesBelow(root.get(), *components, /*create=*/true, "data.output", output);
  if (!dir.ok()) return dir.status();
  place.dir = std::move(*dir);
  struct stat st {};
  if (::fstatat(place.dir.get(), place.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) return InvalidArgument("data.output", "names a directory: " + output);
    if (S_ISLNK(st.st_mode)) return InvalidArgument("data.output", output + " is a symlink");
  }
  place.display = (fs::absolute(options.exports_dir) / output).lexically_normal();
  return place;
}

// The file being written, with a hidden random name in the output's directory (so the rename
// that publishes it stays within one file system); removed unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(const OutputPlace& place) : place_(place) {}
  ~TempFile() {
    if (!name_.empty()) ::unlinkat(place_.dir.get(), name_.c_str(), 0);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  Status Create() {
    std::string name = TemporaryName(place_.name);
    const int fd = ::openat(place_.dir.get(), name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Unavailable("cannot create a file in " + place_.display.parent_path().string() + ": " +
                         ErrnoText(errno));
    }
    ::close(fd);
    name_ = std::move(name);
    return Status::Ok();
  }

  // A path to the file that goes through the open directory, not through its name: the table
  // writers and the digest open files by path.
  std::string path() const {
    return "/proc/self/fd/" + std::to_string(place_.dir.get()) + "/" + name_;
  }

  Status Publish() {
    if (::renameat(place_.dir.get(), name_.c_str(), place_.dir.get(), place_.name.c_str()) != 0) {
      return Unavailable("cannot rename to " + place_.display.string() + ": " + ErrnoText(errno));
    }
    name_.clear();
    // Makes the rename durable; the file is complete either way, so a failure is ignored.
    ::fsync(place_.dir.get());
    return Status::Ok();
  }

 private:
  const OutputPlace& place_;
  std::string name_;
};

// The input file, opened below the input directory without following any symbolic link, and
// read through that descriptor only.
Result<UniqueFd> OpenInputFile(const ExportOptions& options, const std::string& file) {
  Result<UniqueFd> opened = OpenRegularFileBelow(options.input_root, file, "data.source.file");
  if (opened.ok() || opened.status().code() != StatusCode::kNotFound) return opened;
  return InvalidArgument("data.source.file", opened.status().message());
}

Status CheckColumns(const std::vector<std::string>& columns) {
  if (columns.size() > kMaxColumns) {
    return InvalidArgument("data.columns",
                           "the source has more than " + std::to_string(kMaxColumns) + " columns");
  }
  std::unordered_set<std::string_view> seen;
  for (const std::string& name : columns) {
    if (!seen.insert(name).second) {
      return InvalidArgument("data.columns", "the source names the column \"" + name +
                                                 "\" twice; choose columns explicitly");
    }
  }
  return Status::Ok();
}

HandlerResult RunExportJob(const ExportOptions& options, JobContext& ctx) {
  auto spec = ParseExportData(ctx.data_json(), options);
  if (!spec.ok()) return ResultFromStatus(spec.status());
  Result<OutputPlace> place = PrepareOutput(options, spec->output);
  if (!place.ok()) return ResultFromStatus(place.status());

  std::unique_ptr<Inspector> inspector;  // outlives the source that borrows it
  std::unique_ptr<RowSource> source;
  switch (spec->source) {
    case SourceKind::kInline:
      source = MakeInlineRowSource(std::move(spec->rows));
      break;
    case SourceKind::kFile: {
      Result<UniqueFd> file = OpenInputFile(options, spec->file);
      if (!file.ok()) return ResultFromStatus(file.status());
      source = spec->file_format == ExportFormat::kCsv
                   ? MakeCsvFileSource(std::move(*file), spec->file)
                   : MakeNdjsonFileSource(std::move(*file), spec->file);
      break;
    }
    case SourceKind::kQueue: {
      if (options.redis_url.empty()) {
        return HandlerResult::Fail("export: this worker has no Redis URL for queue sources");
      }
      auto opened = Inspector::Open({options.redis_url, options.key_prefix});
      if (!opened.ok()) return ResultFromStatus(opened.status());
      inspector = std::move(*opened);
      source = MakeJobHistorySource(*inspector, spec->history);
      break;
    }
  }
  auto columns = source->Columns(spec->columns);
  if (!columns.ok()) return ResultFromStatus(columns.status());
  if (Status s = CheckColumns(*columns); !s.ok()) return ResultFromStatus(s);

  TempFile temp(*place);
  if (Status s = temp.Create(); !s.ok()) return ResultFromStatus(s);
  auto writer = OpenTableWriter(spec->format, temp.path());
  if (!writer.ok()) return ResultFromStatus(writer.status());
  if (Status s = (*writer)->WriteHeader(*columns); !s.ok()) return ResultFromStatus(s);

  std::vector<json::value> row;  // reused: its cells keep their capacity between rows
  int64_t rows = 0;
  for (;;) {
    if (rows % kStopCheckEveryRows == 0 && ctx.stop_requested()) {
      return HandlerResult::Retry("export: stopped after " + std::to_string(rows) + " rows");
    }
    auto more = source->Next(&row);
    if (!more.ok()) return ResultFromStatus(more.status());
    if (!*more) break;
    if (Status s = (*writer)->WriteRow(row); !s.ok()) {
      // The writer knows the column, not the row.
      Status located(s.code(),
                     "row " + std::to_string(rows + 1) + ": " +
                         (s.field().empty() ? "" : s.field() + ": ") + s.message(),
                     "data");
      return ResultFromStatus(located);
    }
    ++rows;
    if (rows % kProgressEveryRows == 0) {
      ctx.SetProgress("{\"rows\":" + std::to_string(rows) + "}");
    }
  }
  if (Status s = (*writer)->Finish(); !s.ok()) return ResultFromStatus(s);
  writer->reset();
  auto digest = DigestFile(temp.path());
  if (!digest.ok()) return ResultFromStatus(digest.status());
  if (ctx.stop_requested()) {
    return HandlerResult::Retry("export: stopped after " + std::to_string(rows) + " rows");
  }
  if (Status s = temp.Publish(); !s.ok()) return ResultFromStatus(s);
  ctx.SetProgress("{\"rows\":" + std::to_string(rows) + "}");

  json::object result;
  result["path"] = place->display.string();
  result["rows"] = rows;
  result["bytes"] = digest->bytes;
  result["sha256"] = digest->sha256_hex;
  ctx.Log("export: " + std::to_string(rows) + " rows, " + std::to_string(digest->bytes) +
          " bytes to " + place->display.string());
  return HandlerResult::Success(json::serialize(result));
}

}  // namespace

Status ValidateExportData(std::string_view data_json) {
  return ParseExportData(data_json, ExportOptions{}).status();
}

Handler MakeExportHandler(ExportOptions options) {
  return [options = std::move(options)](JobContext& ctx) { return RunExportJob(options, ctx); };
}

}  // namespace taskq::handlers
