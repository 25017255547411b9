#include "handlers/safe_path.h"

#include <algorithm>
#include <system_error>
#include <vector>

namespace taskq::handlers {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxPathBytes = 4096;

// The components of a path without the empty one a trailing "/" leaves.
std::vector<fs::path> Components(const fs::path& path) {
  std::vector<fs::path> out;
  for (const fs::path& part : path) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

}  // namespace

bool IsWithin(const fs::path& root, const fs::path& path) {
  const std::vector<fs::path> root_parts = Components(root);
  const std::vector<fs::path> parts = Components(path);
  if (!root.is_absolute() || !path.is_absolute() || parts.size() < root_parts.size()) return false;
  return std::equal(root_parts.begin(), root_parts.end(), parts.begin());
}

Result<fs::path> CanonicalPath(const fs::path& path, const std::string& field) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) return Unavailable("cannot resolve " + path.string() + ": " + ec.message());
  fs::path canonical = fs::weakly_canonical(absolute, ec);
  if (ec) return Unavailable("cannot resolve " + path.string() + ": " + ec.message());
  canonical = canonical.lexically_normal();
  // weakly_canonical stops at the first component that does not exist, and a dangling symbolic
  // link does not exist to it: it would stay in the result unresolved, and creating or opening
  // through it would follow it wherever it points. Every link that resolves is gone by now, so
  // any link left is such a one.
  fs::path prefix;
  for (const fs::path& part : canonical) {
    prefix /= part;
    const fs::file_status status = fs::symlink_status(prefix, ec);
    if (ec || status.type() == fs::file_type::not_found) break;
    if (status.type() == fs::file_type::symlink) {
      return InvalidArgument(field, prefix.string() + " is a symbolic link to nowhere");
    }
  }
  return canonical;
}

Status CheckRelativeFilePath(std::string_view relative, const std::string& field) {
  if (relative.empty()) return InvalidArgument(field, "must not be empty");
  if (relative.size() > kMaxPathBytes) {
    return InvalidArgument(field, "is longer than " + std::to_string(kMaxPathBytes) + " bytes");
  }
  if (std::any_of(relative.begin(), relative.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
      })) {
    return InvalidArgument(field, "must not contain control characters");
  }
  const fs::path path(relative);
  if (path.is_absolute() || relative.front() == '/') {
    return InvalidArgument(field, "must be a relative path (below the configured directory)");
  }
  for (const fs::path& part : path) {
    if (part == "..") return InvalidArgument(field, "must not contain \"..\"");
  }
  const fs::path name = path.filename();
  if (relative.back() == '/' || name.empty() || name == ".") {
    return InvalidArgument(field, "must name a file, not a directory");
  }
  return Status::Ok();
}

Result<fs::path> ResolveBelow(const fs::path& root, std::string_view relative,
                              const std::string& field) {
  TASKQ_RETURN_IF_ERROR(CheckRelativeFilePath(relative, field));
  auto canonical_root = CanonicalPath(root);
  if (!canonical_root.ok()) return canonical_root.status();
  auto resolved = CanonicalPath(*canonical_root / fs::path(relative), field);
  if (!resolved.ok()) return resolved.status();
  if (!IsWithin(*canonical_root, *resolved) ||
      Components(*resolved).size() == Components(*canonical_root).size()) {
    return InvalidArgument(field,
                           "escapes " + canonical_root->string() + " (through a symbolic link)");
  }
  return *resolved;
}

}  // namespace taskq::handlers
