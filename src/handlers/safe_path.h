// Keeping file access of handlers inside configured directories. Job data names paths, and whoever
// may enqueue a job must not reach files outside the directories the operator chose: neither with
// absolute paths nor with ".." nor through symbolic links.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq::handlers {

// Whether `path` is `root` itself or lies below it. Compares whole components, so "/data/ex" is
// not below "/data/exports". Both must be absolute and normal (e.g. from CanonicalPath); no file
// system access.
bool IsWithin(const std::filesystem::path& root, const std::filesystem::path& path);

// The absolute path with every symbolic link and "." or ".." resolved as far as the path exists
// (std::filesystem::weakly_canonical); the part that does not exist yet is normalised lexically.
// A dangling symbolic link on the way is an error (kInvalidArgument naming `field`): where it
// leads is unknown.
Result<std::filesystem::path> CanonicalPath(const std::filesystem::path& path,
                                            const std::string& field = "path");

// Syntax of a path that job data gives relative to a configured directory: not empty, at most 4096
// bytes, no control characters, not absolute, no ".." component, and naming a file (not ending in
// "/" or "."). Errors name `field`. No file system access, so validation at enqueue time may use
// it.
Status CheckRelativeFilePath(std::string_view relative, const std::string& field);

// `relative` (checked as above) resolved below `root`: symbolic links are followed as far as the
// path exists, and the result must still lie strictly below the canonical root, or the error
// (kInvalidArgument naming `field`) says it escapes. Returns the canonical path.
Result<std::filesystem::path> ResolveBelow(const std::filesystem::path& root,
                                           std::string_view relative, const std::string& field);

}  // namespace taskq::handlers
