#include "bin/worker_child.h"

#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <future>
#include <string>
#include <string_view>
#include <vector>

#include "common/child_command.h"

namespace taskq::bin {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

bool IsUpWorkerChild() {
  const char* value = std::getenv(kUpWorkerVariable);
  if (value == nullptr) return false;
  const std::string_view text(value);
  int64_t parent = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parent);
  if (error != std::errc() || end != text.data() + text.size()) return false;
  // Ends with its parent; checked after asking, since the parent may have ended already.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) return false;
  ::unsetenv(kUpWorkerVariable);
  return true;
}

WorkerChild::~WorkerChild() { Stop(); }

pid_t WorkerChild::pid() const {
  std::lock_guard lock(mu_);
  return pid_;
}

Status WorkerChild::Spawn() {
  auto own = ReadOwnCommand();
  if (!own.ok()) return own.status();
  std::vector<std::string> environment =
      EnvironmentWith(kUpWorkerVariable, std::to_string(::getpid()));
  std::vector<char*> argv = CStrings(own->argv), envp = CStrings(environment);

  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_init(&actions);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attributes, &none);  // the child blocks what it waits for itself
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  // Its own process group: a terminal's Ctrl-C reaches `up` alone, which stops its API first
  // and then the workers (Stop).
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  // Standard input, output and error only: not the API's listening sockets or Redis links.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  pid_t pid = 0;
  const int failed =
      ::posix_spawn(&pid, own->program.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot start the worker process: " + std::string(::strerror(failed)));
  }
  pid_ = pid;
  spdlog::info("workers run in process {}", pid);
  return Status::Ok();
}

Status WorkerChild::Start() {
  std::promise<Status> first;
  auto started = first.get_future();
  supervisor_ = std::thread([this, &first] {
    {
      std::lock_guard lock(mu_);
      first.set_value(Spawn());
    }
    Supervise();
  });
  Status status = started.get();
  if (!status.ok()) Stop();
  return status;
}

void WorkerChild::Supervise() {
  milliseconds pause(1000);
  for (;;) {
    pid_t pid;
    {
      std::lock_guard lock(mu_);
      pid = pid_;
    }
    if (pid == 0) return;  // the first start failed
    const Clock::time_point began = Clock::now();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::unique_lock lock(mu_);
    pid_ = 0;
    if (stopping_) return;
    if (Clock::now() - began > std::chrono::minutes(1)) pause = milliseconds(1000);
    spdlog::error("the worker process {} ended ({}); starting another in {} ms", pid,
                  WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                      : "status " + std::to_string(WEXITSTATUS(status)),
                  pause.count());
    // Until one starts (or up stops): a failed start waits as a quick end does.
    for (;;) {
      if (stopped_.wait_for(lock, pause, [&] { return stopping_; })) return;
      pause = std::min(pause * 2, milliseconds(30000));
      Status s = Spawn();
      if (s.ok()) break;
      spdlog::error("{}; trying again in {} ms", s.message(), pause.count());
    }
  }
}

void WorkerChild::Stop() {
  pid_t pid;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    pid = pid_;
  }
  stopped_.notify_all();
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    const Clock::time_point give_up = Clock::now() + stop_timeout_;
    while (Clock::now() < give_up && this->pid() == pid) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    if (this->pid() == pid) {
      spdlog::warn("the worker process {} did not stop in time; killing it", pid);
      ::kill(pid, SIGKILL);
    }
  }
  if (supervisor_.joinable()) supervisor_.join();
}

}  // namespace taskq::bin
