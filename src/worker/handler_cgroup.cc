#include "worker/handler_cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/text_list.h"

namespace taskq::worker {
namespace {

constexpr std::string_view kChildPrefix = "taskq-";

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One write of `text`, as `echo text > path` does: cgroup files take a value per write.
Status WriteText(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot open " + path + ": " + ::strerror(errno));
  }
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int error = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot write '" + std::string(text) + "' to " + path + ": " + ::strerror(error));
  }
  return Status::Ok();
}

// Whether the space-separated list in `path` has `word`.
bool ListsWord(const std::string& path, std::string_view word) {
  const auto text = ReadText(path);
  if (!text) return false;
  std::istringstream in(*text);
  for (std::string item; in >> item;) {
    if (item == word) return true;
  }
  return false;
}

// The value of `key` in a flat keyed file ("oom_kill 1\n"), 0 when absent.
int64_t KeyedValue(std::string_view text, std::string_view key) {
  for (std::string_view line : SplitList(text, '\n')) {
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ' ') continue;
    int64_t value = 0;
    const std::string_view digits = line.substr(key.size() + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return value;
  }
  return 0;
}

// The worker pid in a child cgroup's name "taskq-<pid>-<n>"; 0 when it is not one.
pid_t WorkerPidOf(std::string_view name) {
  if (!name.starts_with(kChildPrefix)) return 0;
  name.remove_prefix(kChildPrefix.size());
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (error != std::errc() || end == name.data() + name.size() || *end != '-') return 0;
  return pid;
}

// Empty cgroups of workers that ended without removing them (killed): rmdir refuses any that
// still holds a process.
void RemoveLeftovers(const std::string& parent) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(parent, error)) {
    const pid_t pid = WorkerPidOf(entry.path().filename().string());
    if (pid <= 0 || !entry.is_directory(error)) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) ::rmdir(entry.path().c_str());
  }
}

}  // namespace

HandlerCgroup::~HandlerCgroup() {
  // Its processes were killed and reaped, but the kernel may take a moment to let the last of
  // them (members of the process group) go.
  for (int tries = 0; tries < 50; ++tries) {
    if (::rmdir(directory_.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Status HandlerCgroup::Enter(pid_t pid) const {
  return WriteText(directory_ + "/cgroup.procs", std::to_string(pid));
}

bool HandlerCgroup::OutOfMemory() const {
  const auto events = ReadText(directory_ + "/memory.events");
  return events && KeyedValue(*events, "oom_kill") > 0;
}

Result<std::shared_ptr<HandlerCgroups>> HandlerCgroups::Prepare(std::string parent,
                                                                int64_t memory_limit_mb) {
  if (!ListsWord(parent + "/cgroup.controllers", "memory")) {
    return Status(StatusCode::kFailedPrecondition,
                  parent + " is not a cgroup v2 directory whose controllers include memory");
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    return Status(StatusCode::kFailedPrecondition, "cannot create cgroups in " + parent);
  }
  if (!ListsWord(parent + "/cgroup.subtree_control", "memory")) {
    Status enabled = WriteText(parent + "/cgroup.subtree_control", "+memory");
    if (!enabled.ok()) {
      return Status(StatusCode::kFailedPrecondition,
                    "cannot enable the memory controller for the children of " + parent + " (" +
                        enabled.message() +
                        "); a cgroup that holds processes itself cannot, so give the worker an "
                        "empty delegated one");
    }
  }
  RemoveLeftovers(parent);
  std::shared_ptr<HandlerCgroups> cgroups(new HandlerCgroups(std::move(parent), memory_limit_mb));
  TASKQ_RETURN_IF_ERROR(cgroups->Probe());
  return cgroups;
}

Status HandlerCgroups::Probe() {
  // Moving a process needs more than the parent's permissions (write access to cgroup.procs of
  // the common ancestor of where it is and where it goes): a process that only waits to be
  // killed tries it, so that a cgroup handler processes could not enter fails at start, not
  // every start of a handler process.
  const pid_t probe = ::fork();
  if (probe < 0) return Status(StatusCode::kUnavailable, "cannot fork a cgroup probe");
  if (probe == 0) {
    for (;;) ::pause();
  }
  auto cgroup = Create();
  Status entered = cgroup.ok() ? (*cgroup)->Enter(probe) : cgroup.status();
  ::kill(probe, SIGKILL);
  while (::waitpid(probe, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!entered.ok()) {
    return Status(StatusCode::kFailedPrecondition, "cannot move a process into a cgroup under " +
                                                       parent_ + ": " + entered.message());
  }
  return Status::Ok();
}

Result<std::unique_ptr<HandlerCgroup>> HandlerCgroups::Create() {
  static std::atomic<int64_t> created{0};
  const std::string directory = parent_ + "/" + std::string(kChildPrefix) +
                                std::to_string(::getpid()) + "-" + std::to_string(++created);
  if (::mkdir(directory.c_str(), 0755) != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot create cgroup " + directory + ": " + ::strerror(errno));
  }
  auto cgroup = std::make_unique<HandlerCgroup>(directory);
  const std::string bytes = std::to_string(memory_limit_mb_ << 20);
  TASKQ_RETURN_IF_ERROR(WriteText(directory + "/memory.max", bytes));
  // Without swap off, a process past memory.max would swap rather than end. Kernels without
  // swap accounting have no such file.
  if (::access((directory + "/memory.swap.max").c_str(), F_OK) == 0) {
    TASKQ_RETURN_IF_ERROR(WriteText(directory + "/memory.swap.max", "0"));
  }
  return cgroup;
}

std::optional<std::string> Cgroup2MountPoint(std::string_view mountinfo) {
  // "36 25 0:31 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw": the mount point is
  // the fifth field, the file system type the first after " - ".
  for (std::string_view line : SplitList(mountinfo, '\n')) {
    const size_t dash = line.find(" - ");
    if (dash == std::string_view::npos || !line.substr(dash + 3).starts_with("cgroup2 ")) continue;
    std::istringstream fields{std::string(line.substr(0, dash))};
    std::string field;
    for (int i = 0; i < 5 && fields >> field; ++i) {
    }
    if (field.empty() || field.find('\\') != std::string::npos) continue;  // escaped: not ours
    return field;
  }
  return std::nullopt;
}

std::optional<std::string> Cgroup2PathOf(std::string_view proc_self_cgroup) {
  for (std::string_view line : SplitList(proc_self_cgroup, '\n')) {
    if (line.starts_with("0::/")) return std::string(line.substr(3));
  }
  return std::nullopt;
}

Result<std::string> DelegatedCgroupOfThisProcess() {
  const auto mountinfo = ReadText("/proc/self/mountinfo");
  const auto mount = mountinfo ? Cgroup2MountPoint(*mountinfo) : std::nullopt;
  if (!mount) return Status(StatusCode::kFailedPrecondition, "no cgroup v2 hierarchy is mounted");
  const auto own = ReadText("/proc/self/cgroup");
  const auto path = own ? Cgroup2PathOf(*own) : std::nullopt;
  if (!path) return Status(StatusCode::kFailedPrecondition, "this process has no cgroup v2 path");
  return MakeRoomForHandlerCgroups(*path == "/" ? *mount : *mount + *path, ::getpid());
}

Result<std::string> MakeRoomForHandlerCgroups(const std::string& directory, pid_t self) {
  if (::access(directory.c_str(), W_OK) != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "this process may not create cgroups in its cgroup " + directory);
  }
  if (ListsWord(directory + "/cgroup.subtree_control", "memory")) return directory;
  if (!ListsWord(directory + "/cgroup.controllers", "memory")) {
    return Status(StatusCode::kFailedPrecondition,
                  "the memory controller is not available to this process's cgroup " + directory);
  }
  // A cgroup that holds processes cannot give its children the memory controller: this process
  // moves into a leaf of its own first. Should others share the cgroup (enabling then fails),
  // it moves back.
  const std::string leaf = directory + "/taskq-worker-" + std::to_string(self);
  if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot create cgroup " + leaf + ": " + ::strerror(errno));
  }
  Status moved = WriteText(leaf + "/cgroup.procs", std::to_string(self));
  if (moved.ok()) {
    Status enabled = WriteText(directory + "/cgroup.subtree_control", "+memory");
    if (enabled.ok()) return directory;
    (void)WriteText(directory + "/cgroup.procs", std::to_string(self));
    moved = Status(StatusCode::kFailedPrecondition, "other processes share this process's cgroup " +
                                                        directory + " (" + enabled.message() + ")");
  }
  ::rmdir(leaf.c_str());
  return moved;
}

}  // namespace taskq::worker
