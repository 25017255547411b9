#include "handlers/rooted_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <random>
#include <system_error>

namespace taskq::handlers {
std::string ErrnoText(int error) { return std::generic_category().message(error); }

std::string TemporaryName(std::string_view base) {
  thread_local std::mt19937_64 random(std::random_device{}());
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string name = "." + std::string(base.substr(0, 200)) + ".tmp-";
  uint64_t bits = random();
  for (int i = 0; i < 16; ++i, bits >>= 4) name.push_back(kDigits[bits & 15]);
  return name;
}

Result<UniqueFd> OpenDirectoriesBelow(int dir, const std::vector<std::string>& components,
                                      bool create, const std::string& field,
                                      const std::string& path) {
  UniqueFd current(::dup(dir));
  if (!current.valid()) return Unavailable("dup: " + ErrnoText(errno));
  for (const std::string& name : components) {
    if (create && ::mkdirat(current.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      const int error = errno;
      if (error == ENOTDIR) {
        return InvalidArgument(field, path + ": a directory on the way is a file");
      }
      return Unavailable(path + ": cannot create directory " + name + ": " + ErrnoText(error));
    }
    UniqueFd next(
        ::openat(current.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      const int error = errno;
      if (error == ELOOP || error == ENOTDIR) {
        return InvalidArgument(field, path + ": " + name + " is a symlink or not a directory");
      }
      if (error == ENOENT) return NotFound(field + ": " + path + ": no such file");
      if (error == EACCES) return InvalidArgument(field, path + ": " + ErrnoText(error));
      return Unavailable(path + ": cannot open directory " + name + ": " + ErrnoText(error));
    }
    current = std::move(next);
  }
  return current;
}

Result<std::vector<std::string>> ComponentsBelow(const std::string& root, std::string_view path,
                                                 const std::string& field) {
  const std::string text(path);
  if (text.empty()) return InvalidArgument(field, "must not be empty");
  if (text.back() == '/') return InvalidArgument(field, text + " names a directory, not a file");
  const std::filesystem::path root_path = std::filesystem::absolute(root).lexically_normal();
  const std::filesystem::path given(text);
  const std::filesystem::path relative =
      given.is_absolute() ? given.lexically_normal().lexically_relative(root_path)
                          : given.lexically_normal();
  if (relative.empty() || *relative.begin() == ".." || relative == ".") {
    return InvalidArgument(field, text + " is not below " + root_path.string());
  }
  std::vector<std::string> components;
  for (const auto& part : relative) {
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgument(field, text + " is not below " + root_path.string());
    }
    components.push_back(part.string());
  }
  return components;
}

Result<UniqueFd> OpenRegularFileBelow(const std::string& root, std::string_view path,
                                      const std::string& field) {
  Result<std::vector<std::string>> components = ComponentsBelow(root, path, field);
  if (!components.ok()) return components.status();
  const std::string text(path);
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    return NotFound(field + ": the directory " + root + " cannot be opened: " + ErrnoText(errno));
  }
  const std::string name = components->back();
  components->pop_back();
  Result<UniqueFd> dir = OpenDirectoriesBelow(root_fd.get(), *components, false, field, text);
  if (!dir.ok()) return dir.status();
  // O_NONBLOCK: a FIFO placed there must not hang the handler; it is refused below.
  UniqueFd file(::openat(dir->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!file.valid()) {
    const int error = errno;
    if (error == ENOENT) return NotFound(field + ": " + text + ": no such file");
    if (error == ELOOP) return InvalidArgument(field, text + " is a symlink");
    if (error == EACCES) return InvalidArgument(field, text + ": " + ErrnoText(error));
    return Unavailable(field + ": " + text + ": " + ErrnoText(error));
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return Unavailable(field + ": fstat: " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return InvalidArgument(field, text + " is not a regular file");
  // Reads block as usual from here on (a regular file never makes them wait long).
  const int flags = ::fcntl(file.get(), F_GETFL);
  if (flags >= 0) ::fcntl(file.get(), F_SETFL, flags & ~O_NONBLOCK);
  return file;
}

}  // namespace taskq::handlers
