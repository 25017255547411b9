// Memory caps of handler processes through cgroup v2: each process in a cgroup of its own whose
// memory.max is the cap (swap off), made in a parent cgroup the worker may write and whose
// children may use the memory controller. The kernel then counts what the process really uses
// (resident pages, page cache, kernel memory) and ends it with the OOM killer past the cap;
// memory.events tells that from a crash. Where no such parent exists the worker falls back to
// RLIMIT_DATA (handler_host.h), which counts the heap's address space instead.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq::worker {

// One handler process's cgroup. Removed when this goes (after its process was reaped).
class HandlerCgroup {
 public:
  explicit HandlerCgroup(std::string directory) : directory_(std::move(directory)) {}
  ~HandlerCgroup();
  HandlerCgroup(const HandlerCgroup&) = delete;
  HandlerCgroup& operator=(const HandlerCgroup&) = delete;

  const std::string& directory() const { return directory_; }
  // Moves `pid` (all its threads) into the cgroup.
  Status Enter(pid_t pid) const;
  // Whether the kernel's OOM killer ended a process of this cgroup (memory.events' oom_kill).
  bool OutOfMemory() const;

 private:
  const std::string directory_;
};

// The parent cgroup of one worker's handler processes.
class HandlerCgroups {
 public:
  // Readies `parent`, a cgroup v2 directory: its controllers must offer memory, which is then
  // enabled for its children (+memory in cgroup.subtree_control) unless it is already. Removes
  // the empty cgroups left by workers that are gone. An error says what is missing.
  static Result<std::shared_ptr<HandlerCgroups>> Prepare(std::string parent,
                                                         int64_t memory_limit_mb);

  const std::string& parent() const { return parent_; }
  int64_t memory_limit_mb() const { return memory_limit_mb_; }
  // A new cgroup "taskq-<worker pid>-<n>" under the parent, its memory.max the cap.
  Result<std::unique_ptr<HandlerCgroup>> Create();

 private:
  // Moves a process made for this into a new cgroup and back out; an error if it cannot.
  Status Probe();

  HandlerCgroups(std::string parent, int64_t memory_limit_mb)
      : parent_(std::move(parent)), memory_limit_mb_(memory_limit_mb) {}

  const std::string parent_;
  const int64_t memory_limit_mb_;
};

// The mount point of the cgroup v2 hierarchy in /proc/self/mountinfo's text, if mounted.
std::optional<std::string> Cgroup2MountPoint(std::string_view mountinfo);
// This process's cgroup v2 path ("/system.slice/taskq.service") in /proc/self/cgroup's text.
std::optional<std::string> Cgroup2PathOf(std::string_view proc_self_cgroup);

// The cgroup this process may place handler processes under without being told: its own cgroup
// v2 directory, when it may write it (a delegated cgroup, as systemd's Delegate=yes gives a
// service) and the memory controller is available there (MakeRoomForHandlerCgroups). An error
// says why not.
Result<std::string> DelegatedCgroupOfThisProcess();

// Readies `directory`, the cgroup that holds process `self`, to take handler cgroups: returns it
// when its children have the memory controller or can be given it. A cgroup that holds
// processes cannot give it, so `self` first moves into a leaf "taskq-worker-<pid>" beside the
// handler cgroups (and back, when other processes share the cgroup).
Result<std::string> MakeRoomForHandlerCgroups(const std::string& directory, pid_t self);

}  // namespace taskq::worker
