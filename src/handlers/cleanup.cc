#include "handlers/cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>

#include "common/field_errors.h"
#include "handlers/data_fields.h"
#include "handlers/rooted_file.h"
#include "taskq/inspector.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxGlobBytes = 255;
constexpr size_t kMaxQueueNameBytes = 256;
constexpr int32_t kCleanBatch = 10000;  // Inspector::Clean's largest batch
constexpr int kMaxDepth = 64;           // recursive walks: one open directory per level
constexpr int64_t kProgressEveryEntries = 1000;
constexpr int64_t kStopCheckEveryEntries = 256;
constexpr int kMaxLoggedFailures = 5;

enum class Target { kJobs, kFiles, kEvents };

struct CleanupSpec {
  Target target = Target::kJobs;
  bool dry_run = false;
  int64_t older_than_ms = 0;
  // kJobs
  std::string queue;
  JobState state = JobState::kCompleted;
  // kFiles
  std::string directory;
  std::string glob = "*";
  bool recursive = false;
};

Status RequireOlderThan(const json::object& data, CleanupSpec* spec) {
  auto older = OptionalInteger(data, "older_than_ms", "data.older_than_ms", 0,
                               std::numeric_limits<int64_t>::max() / 2);
  if (!older.ok()) return older.status();
  // Required: a missing age would otherwise mean "everything", the most destructive default.
  if (!*older) return InvalidArgument("data.older_than_ms", "is required (0 for any age)");
  spec->older_than_ms = **older;
  return Status::Ok();
}

Status ParseJobsTarget(const json::object& data, CleanupSpec* spec) {
  FieldErrors errors;
  spec->target = Target::kJobs;
  errors.Check(
      RejectUnknownKeys(data, {"target", "queue", "state", "older_than_ms", "dry_run"}, "data"));
  auto queue = OptionalString(data, "queue", "data.queue", kMaxQueueNameBytes);
  if (errors.Check(queue.status())) {
    if (!*queue || (*queue)->empty()) {
      errors.Add(InvalidArgument("data.queue", "is required"));
    } else {
      spec->queue = std::move(**queue);
    }
  }
  auto state = OptionalString(data, "state", "data.state", 16);
  if (errors.Check(state.status())) {
    if (*state == "completed") {
      spec->state = JobState::kCompleted;
    } else if (*state == "dead") {
      spec->state = JobState::kDead;
    } else {
      errors.Add(InvalidArgument("data.state", "must be \"completed\" or \"dead\""));
    }
  }
  errors.Check(RequireOlderThan(data, spec));
  return std::move(errors).ToStatus();
}

Status ParseFilesTarget(const json::object& data, CleanupSpec* spec) {
  FieldErrors errors;
  spec->target = Target::kFiles;
  errors.Check(RejectUnknownKeys(
      data, {"target", "directory", "glob", "older_than_ms", "recursive", "dry_run"}, "data"));
  auto directory = OptionalString(data, "directory", "data.directory", kMaxPathBytes);
  if (errors.Check(directory.status())) {
    if (!*directory || (*directory)->empty() || (*directory)->find('\0') != std::string::npos) {
      errors.Add(InvalidArgument("data.directory", "must be a directory below a cleanup root"));
    } else {
      spec->directory = std::move(**directory);
    }
  }
  auto glob = OptionalString(data, "glob", "data.glob", kMaxGlobBytes);
  if (errors.Check(glob.status())) {
    if (*glob) spec->glob = std::move(**glob);
    if (spec->glob.empty() || spec->glob.find('/') != std::string::npos ||
        spec->glob.find('\0') != std::string::npos) {
      errors.Add(
          InvalidArgument("data.glob", "must be a file name pattern such as \"*.csv\" (no '/')"));
    }
  }
  auto recursive = OptionalBool(data, "recursive", "data.recursive", false);
  if (errors.Check(recursive.status())) spec->recursive = *recursive;
  errors.Check(RequireOlderThan(data, spec));
  return std::move(errors).ToStatus();
}

// Names every invalid field, not only the first (docs/http-api.md, "Errors"); the fields allowed
// beside the target depend on it, so with an invalid target only dry_run is checked.
Result<CleanupSpec> ParseCleanupData(std::string_view data_json) {
  auto root = ParseDataObject(data_json);
  if (!root.ok()) return root.status();
  const json::object& data = root->get_object();
  FieldErrors errors;
  CleanupSpec spec;
  auto target = OptionalString(data, "target", "data.target", 16);
  errors.Check(target.status());
  const std::string name = target.ok() ? target->value_or("") : "";
  auto dry_run = OptionalBool(data, "dry_run", "data.dry_run", false);
  if (errors.Check(dry_run.status())) spec.dry_run = *dry_run;

  if (name == "jobs") {
    errors.Check(ParseJobsTarget(data, &spec));
  } else if (name == "files") {
    errors.Check(ParseFilesTarget(data, &spec));
  } else if (name == "events") {
    spec.target = Target::kEvents;
    errors.Check(RejectUnknownKeys(data, {"target", "dry_run"}, "data"));
  } else {
    errors.Add(InvalidArgument("data.target", "must be \"jobs\", \"files\" or \"events\""));
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return spec;
}

// ----------------------------------------------------------------------------------------------
// Jobs

// How many jobs finished at or before cutoff_ms, without removing any. The set is ordered newest
// first, so a binary search over offsets finds the first old enough in O(log n) one-job reads.
Result<int64_t> CountOlderJobs(Inspector& inspector, const CleanupSpec& spec, int64_t total,
                               int64_t cutoff_ms) {
  int64_t low = 0, high = total;  // the answer offset lies in [low, high]
  while (low < high) {
    const int64_t mid = low + (high - low) / 2;
    auto page = inspector.List(spec.queue, spec.state, mid, 1);
    if (!page.ok()) return page.status();
    if (page->empty()) {  // the set shrank meanwhile
      high = mid;
    } else if (page->front().finished_ms <= cutoff_ms) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return total - low;
}

HandlerResult CleanJobs(const CleanupOptions& options, const CleanupSpec& spec, JobContext& ctx) {
  if (options.redis_url.empty()) {
    return HandlerResult::Fail("cleanup: this worker has no Redis URL for job targets");
  }
  auto inspector = Inspector::Open({options.redis_url, options.key_prefix});
  if (!inspector.ok()) return ResultFromStatus(inspector.status());
  int64_t matched = 0, deleted = 0;
  if (spec.dry_run) {
    auto counts = (*inspector)->Counts(spec.queue);
    if (!counts.ok()) return ResultFromStatus(counts.status());
    const int64_t total = spec.state == JobState::kCompleted ? counts->completed : counts->dead;
    // Redis' clock, as Clean uses it.
    auto older = CountOlderJobs(**inspector, spec, total, counts->now_ms - spec.older_than_ms);
    if (!older.ok()) return ResultFromStatus(older.status());
    matched = *older;
  } else {
    for (;;) {
      if (ctx.stop_requested()) {
        return HandlerResult::Retry("cleanup: stopped after removing " + std::to_string(deleted) +
                                    " jobs");
      }
      auto removed = (*inspector)
                         ->Clean(spec.queue, spec.state,
                                 std::chrono::milliseconds(spec.older_than_ms), kCleanBatch);
      if (!removed.ok()) return ResultFromStatus(removed.status());
      deleted += *removed;
      ctx.SetProgress("{\"deleted\":" + std::to_string(deleted) + "}");
      if (*removed < kCleanBatch) break;
    }
    matched = deleted;
  }
  json::object result;
  result["target"] = "jobs";
  result["queue"] = spec.queue;
  result["state"] = JobStateName(spec.state);
  result["dry_run"] = spec.dry_run;
  result["matched"] = matched;
  result["deleted"] = deleted;
  ctx.Log("cleanup: " + std::string(spec.dry_run ? "would remove " : "removed ") +
          std::to_string(matched) + " " + JobStateName(spec.state) + " jobs of " + spec.queue);
  return HandlerResult::Success(json::serialize(result));
}

// ----------------------------------------------------------------------------------------------
// Files

struct FileCounts {
  int64_t scanned = 0;  // directory entries looked at
  int64_t matched = 0;  // regular files matching the pattern and old enough
  int64_t matched_bytes = 0;
  int64_t deleted = 0;
  int64_t bytes_freed = 0;
  int64_t failed = 0;   // matched but could not be deleted (logged)
  int64_t skipped = 0;  // symbolic links and special files: never followed, never deleted
};

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

class FileSweeper {
 public:
  FileSweeper(const CleanupSpec& spec, int64_t cutoff_ms, JobContext& ctx)
      : spec_(spec), cutoff_ms_(cutoff_ms), ctx_(ctx) {}

  // Walks the directory open as `dir_fd` (taken). Every step is relative to an open directory
  // (openat, fstatat, unlinkat) and nothing follows a symbolic link, so a link swapped in while
  // the walk runs cannot lead it outside.
  Status Walk(int dir_fd, const std::string& display, int depth) {
    std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dir_fd));
    if (!dir) {
      const std::string message = "cannot list " + display + ": " + ErrnoText(errno);
      ::close(dir_fd);
      return Unavailable(message);
    }
    for (;;) {
      errno = 0;
      const dirent* entry = ::readdir(dir.get());
      if (entry == nullptr) {
        if (errno != 0) return Unavailable("cannot list " + display + ": " + ErrnoText(errno));
        return Status::Ok();
      }
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (++counts_.scanned % kStopCheckEveryEntries == 0 && ctx_.stop_requested()) {
        return Status(StatusCode::kDeadlineExceeded, "stopped");
      }
      if (counts_.scanned % kProgressEveryEntries == 0) {
        ctx_.SetProgress("{\"scanned\":" + std::to_string(counts_.scanned) +
                         ",\"matched\":" + std::to_string(counts_.matched) + "}");
      }
      struct stat info {};
      if (::fstatat(::dirfd(dir.get()), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;  // removed meanwhile
      }
      const std::string path = display + "/" + std::string(name);
      if (S_ISDIR(info.st_mode)) {
        if (!spec_.recursive || depth >= kMaxDepth) continue;
        const int child = ::openat(::dirfd(dir.get()), entry->d_name,
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
          NoteFailure("cannot open " + path + ": " + ErrnoText(errno));
          continue;
        }
        TASKQ_RETURN_IF_ERROR(Walk(child, path, depth + 1));
        continue;
      }
      if (!S_ISREG(info.st_mode)) {
        ++counts_.skipped;
        continue;
      }
      // FNM_PERIOD: "*" does not match hidden files, such as the temporary files an export is
      // still writing.
      if (::fnmatch(spec_.glob.c_str(), entry->d_name, FNM_PERIOD) != 0) continue;
      const int64_t mtime_ms =
          static_cast<int64_t>(info.st_mtim.tv_sec) * 1000 + info.st_mtim.tv_nsec / 1000000;
      if (mtime_ms > cutoff_ms_) continue;
      ++counts_.matched;
      counts_.matched_bytes += info.st_size;
      if (spec_.dry_run) continue;
      // unlinkat removes the name itself; it never follows a link.
      if (::unlinkat(::dirfd(dir.get()), entry->d_name, 0) != 0) {
        if (errno != ENOENT) NoteFailure("cannot delete " + path + ": " + ErrnoText(errno));
        continue;
      }
      ++counts_.deleted;
      counts_.bytes_freed += info.st_size;
    }
  }

  const FileCounts& counts() const { return counts_; }

 private:
  void NoteFailure(std::string message) {
    if (++counts_.failed <= kMaxLoggedFailures) ctx_.Log("cleanup: " + std::move(message));
  }

  const CleanupSpec& spec_;
  const int64_t cutoff_ms_;
  JobContext& ctx_;
  FileCounts counts_;
};

// `directory` absolute and lexically normal, without a trailing '/': "/data/exports".
fs::path NormalDirectory(const std::string& directory) {
  fs::path path = fs::absolute(directory).lexically_normal();
  if (path.has_relative_path() && path.filename().empty()) path = path.parent_path();
  return path;
}

// The directory, opened below the cleanup root it lies in without following any symbolic link
// below that root, so that a link swapped in after the check leads nowhere. The directory is
// compared with each root lexically, the root as configured and in its canonical form (the
// operator's own links above the root are fine). NotFound: the directory does not exist yet.
Result<UniqueFd> OpenDirectoryBelowRoot(const CleanupOptions& options,
                                        const std::string& directory) {
  const fs::path wanted = NormalDirectory(directory);
  std::string roots;
  for (const std::string& root : options.roots) {
    std::error_code ec;
    const fs::path forms[] = {fs::absolute(root).lexically_normal(),
                              fs::weakly_canonical(root, ec)};
    for (const fs::path& form : forms) {
      if (form.empty()) continue;
      const fs::path relative = wanted.lexically_relative(form);
      if (relative.empty() || *relative.begin() == "..") continue;
      std::vector<std::string> components;
      for (const auto& part : relative) {
        if (!part.empty() && part != ".") components.push_back(part.string());
      }
      UniqueFd root_fd(::open(form.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!root_fd.valid()) {
        const int error = errno;
        if (error == ENOENT) return NotFound(form.string() + " does not exist");
        return Unavailable("cannot open " + form.string() + ": " + ErrnoText(error));
      }
      return OpenDirectoriesBelow(root_fd.get(), components, false, "data.directory", directory);
    }
    roots += (roots.empty() ? "" : ", ") + fs::absolute(root).lexically_normal().string();
  }
  return InvalidArgument("data.directory", wanted.string() + " is not below a cleanup root (" +
                                               (roots.empty() ? "none configured" : roots) + ")");
}

HandlerResult CleanFiles(const CleanupOptions& options, const CleanupSpec& spec, JobContext& ctx) {
  Result<UniqueFd> directory = OpenDirectoryBelowRoot(options, spec.directory);
  const std::string display = NormalDirectory(spec.directory).string();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  FileSweeper sweeper(spec, now_ms - spec.older_than_ms, ctx);
  if (!directory.ok() && directory.status().code() == StatusCode::kNotFound) {
    // Roots are created lazily (the first export or outbox mail): nothing to clean yet.
    ctx.Log("cleanup: " + display + " does not exist; nothing to clean");
  } else if (!directory.ok()) {
    return ResultFromStatus(directory.status(), "cleanup: ");
  } else if (Status s = sweeper.Walk(::dup(directory->get()), display, 0); !s.ok()) {
    if (s.code() == StatusCode::kDeadlineExceeded) {
      return HandlerResult::Retry("cleanup: stopped after deleting " +
                                  std::to_string(sweeper.counts().deleted) + " files");
    }
    return ResultFromStatus(s);
  }
  const FileCounts& counts = sweeper.counts();
  json::object result;
  result["target"] = "files";
  result["directory"] = display;
  result["dry_run"] = spec.dry_run;
  result["scanned"] = counts.scanned;
  result["matched"] = counts.matched;
  result["matched_bytes"] = counts.matched_bytes;
  result["deleted"] = counts.deleted;
  result["bytes_freed"] = counts.bytes_freed;
  result["failed"] = counts.failed;
  result["skipped"] = counts.skipped;
  ctx.Log("cleanup: " + std::string(spec.dry_run ? "would delete " : "deleted ") +
          std::to_string(spec.dry_run ? counts.matched : counts.deleted) + " files (" +
          std::to_string(spec.dry_run ? counts.matched_bytes : counts.bytes_freed) + " bytes) in " +
          display);
  return HandlerResult::Success(json::serialize(result));
}

HandlerResult RunCleanupJob(const CleanupOptions& options, JobContext& ctx) {
  auto spec = ParseCleanupData(ctx.data_json());
  if (!spec.ok()) return ResultFromStatus(spec.status());
  switch (spec->target) {
    case Target::kJobs:
      return CleanJobs(options, *spec, ctx);
    case Target::kFiles:
      return CleanFiles(options, *spec, ctx);
    case Target::kEvents:
      break;
  }
  // Reserved for the event streams the API will keep; refusing now beats succeeding silently.
  return HandlerResult::Fail("cleanup: no event streams exist yet");
}

}  // namespace

Status ValidateCleanupData(std::string_view data_json) {
  return ParseCleanupData(data_json).status();
}

Handler MakeCleanupHandler(CleanupOptions options) {
  return [options = std::move(options)](JobContext& ctx) { return RunCleanupJob(options, ctx); };
}

}  // namespace taskq::handlers
