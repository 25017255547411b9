// Opening files that job data names, below a directory the operator configured, so that whoever
// may enqueue a job reaches nothing else: the path is walked one component at a time from an open
// descriptor of the root (openat with O_NOFOLLOW), so neither "..", nor a symbolic link, nor a
// link swapped in between a check and the open leads outside the root. What is opened is the
// file that was checked; nothing reopens it by name afterwards.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "taskq/status.h"

namespace taskq::handlers {

// strerror's text for `error`, safe from any thread (std::strerror may share a buffer).
std::string ErrnoText(int error);

// A hidden name no other writer picks, for a temporary file beside `base` in the same directory
// (created there with O_EXCL, then renamed onto `base` or unlinked).
std::string TemporaryName(std::string_view base);

// Opens (with `create`, first makes, mode 0755) each directory of `components` below the open
// directory `dir`. A component that is a symbolic link is refused wherever it points. Errors name
// `field`; `path` is how the job data spelled the whole path, for messages.
Result<UniqueFd> OpenDirectoriesBelow(int dir, const std::vector<std::string>& components,
                                      bool create, const std::string& field,
                                      const std::string& path);

// The components of `path` below `root`: `path` may be relative to the root or absolute and
// lexically below it. Refuses (kInvalidArgument naming `field`) an empty path, one that leaves the
// root with "..", one that names the root itself, or one that ends in "/". No file system access.
Result<std::vector<std::string>> ComponentsBelow(const std::string& root, std::string_view path,
                                                 const std::string& field);

// Opens the regular file `path` (as for ComponentsBelow) for reading, following no symbolic link
// below `root`. A FIFO or device is refused without blocking. Errors: kInvalidArgument naming
// `field` (outside the root, a symbolic link on the way, not a regular file), kNotFound (no such
// file, or the root cannot be opened), kUnavailable (any other I/O error).
Result<UniqueFd> OpenRegularFileBelow(const std::string& root, std::string_view path,
                                      const std::string& field);

}  // namespace taskq::handlers
