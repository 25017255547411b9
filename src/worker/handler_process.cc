#include "worker/handler_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <thread>

#include "common/child_command.h"
#include "worker/handler_frames.h"
#include "worker/handler_host.h"

namespace taskq::worker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The handler process's ends of the socket pairs: jobs as its fd 3, stop requests as fd 4
// (handler_host.h).
constexpr int kChildSocketFd = 3;
constexpr int kChildStopsFd = 4;
// How often a running attempt's stop request is looked at.
constexpr milliseconds kStopCheckEvery{50};
// After SIGTERM, how long a process may take to end before SIGKILL.
constexpr milliseconds kTermToKill{250};

milliseconds Until(Clock::time_point when) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(when - Clock::now()));
}

// posix_spawn's attributes and file actions, released however Start returns.
struct SpawnSetup {
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
};

}  // namespace

std::string WaitStatusText(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    const char* name = ::sigabbrev_np(signal);
    return "killed by signal " + std::to_string(signal) +
           (name != nullptr ? " (SIG" + std::string(name) + ")" : "");
  }
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  return "ended with wait status " + std::to_string(wait_status);
}

Result<std::unique_ptr<HandlerProcess>> HandlerProcess::Spawn(
    const HandlerProcessOptions& options) {
  // Both pairs, the child's ends moved above the fds they become so that dup2 never maps one onto
  // itself (which would keep close-on-exec).
  UniqueFd mine, theirs, my_stops, their_stops;
  for (auto [local, remote] : {std::pair{&mine, &theirs}, std::pair{&my_stops, &their_stops}}) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return Status(StatusCode::kUnavailable,
                    std::string("cannot create a socket pair: ") + ::strerror(errno));
    }
    *local = UniqueFd(pair[0]);
    UniqueFd child(pair[1]);
    *remote = UniqueFd(::fcntl(child.get(), F_DUPFD_CLOEXEC, kChildStopsFd + 1));
    if (!remote->valid()) return Status(StatusCode::kUnavailable, "cannot move a socket");
  }
  // The cgroup exists, its cap set, before the process does; the process enters it before it
  // is sent any job.
  std::unique_ptr<HandlerCgroup> cgroup;
  if (options.cgroups) {
    auto created = options.cgroups->Create();
    if (!created.ok()) return created.status();
    cgroup = std::move(*created);
  }
  SpawnSetup setup;
  // Its own process group, so that a terminal's Ctrl-C reaches the worker only (which stops its
  // handler processes itself), and so that stopping it stops what its handler started.
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&setup.attributes, &none);  // the worker blocks its stop signals
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_adddup2(&setup.actions, theirs.get(), kChildSocketFd);
  posix_spawn_file_actions_adddup2(&setup.actions, their_stops.get(), kChildStopsFd);
  // Nothing else of the worker's (Redis connections, listening sockets, files) goes along.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, kChildStopsFd + 1);

  std::vector<std::string> environment = EnvironmentWith(
      kHandlerProcessVariable, std::to_string(kChildSocketFd) + ":" + std::to_string(::getpid()) +
                                   ":" + std::to_string(cgroup ? 0 : options.memory_limit_mb));
  std::vector<std::string> arguments = options.argv;
  if (arguments.empty()) arguments.push_back(options.program);
  std::vector<char*> envp = CStrings(environment), argv = CStrings(arguments);

  pid_t pid = 0;
  const int error = ::posix_spawn(&pid, options.program.c_str(), &setup.actions, &setup.attributes,
                                  argv.data(), envp.data());
  if (error != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot start " + options.program + ": " + ::strerror(error));
  }
  theirs.Reset();
  their_stops.Reset();
  // A process that stops reading (frozen, SIGSTOP) must not hold the pool's thread in a send of
  // a large job for ever: the send fails after this, and the process counts as crashed.
  const timeval send_timeout{5, 0};
  for (int fd : {mine.get(), my_stops.get()}) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  }
  std::unique_ptr<HandlerProcess> process(
      new HandlerProcess(pid, std::move(mine), std::move(my_stops), std::move(cgroup), options));
  // One that cannot enter its cgroup ends (the destructor stops and reaps it) before any job.
  if (process->cgroup_) TASKQ_RETURN_IF_ERROR(process->cgroup_->Enter(pid));
  return process;
}

HandlerProcess::HandlerProcess(pid_t pid, UniqueFd socket, UniqueFd stops,
                               std::unique_ptr<HandlerCgroup> cgroup,
                               const HandlerProcessOptions& options)
    : pid_(pid),
      socket_(std::move(socket)),
      stops_(std::move(stops)),
      cgroup_(std::move(cgroup)),
      memory_limit_mb_(options.memory_limit_mb),
      program_(options.program),
      kill_grace_(options.kill_grace),
      start_deadline_(Clock::now() + options.start_timeout) {}

Result<bool> HandlerProcess::ReadReady() {
  std::string why;
  if (Clock::now() >= start_deadline_) {
    why = "it did not say it was ready in time; " + Kill();
  } else if (!Receive()) {
    why = "it closed its socket; " + Reap();
  } else {
    auto frame = reader_.Next();
    if (frame.ok() && !frame->has_value()) return false;
    if (frame.ok() && (*frame)->kind == FrameKind::kReady && DecodeEmpty((*frame)->fields).ok()) {
      return true;
    }
    why = "its first frame was not ready; " + Kill();
  }
  return Status(StatusCode::kFailedPrecondition,
                "handler process " + program_ + " did not start (" + why +
                    "): its main must call taskq::IsHandlerProcess() first and serve with "
                    "Worker::ServeHandlerProcess()");
}

bool HandlerProcess::Receive() {
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::recv(socket_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // nothing yet
    if (n <= 0) return false;
    reader_.Append(buffer, static_cast<size_t>(n));
    return true;
  }
}

HandlerProcess::~HandlerProcess() {
  if (reaped_) return;
  socket_.Reset();  // it sees the end of either socket and exits
  stops_.Reset();
  Reap();
}

bool HandlerProcess::SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string HandlerProcess::Reaped(int wait_status) {
  reaped_ = true;
  // What its handler started goes with it. Its group keeps its id while any member lives, so
  // this reaches no other process.
  ::kill(-pid_, SIGKILL);
  return WaitStatusText(wait_status);
}

std::string HandlerProcess::Kill() {
  if (reaped_) return "already ended";
  int status = 0;
  ::kill(-pid_, SIGTERM);
  const auto give_up = Clock::now() + kTermToKill;
  while (Clock::now() < give_up) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return Reaped(status);
    std::this_thread::sleep_for(milliseconds(5));
  }
  ::kill(-pid_, SIGKILL);
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  return Reaped(status);
}

std::string HandlerProcess::Reap() {
  if (reaped_) return "already ended";
  int status = 0;
  const auto give_up = Clock::now() + kTermToKill;
  while (Clock::now() < give_up) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return Reaped(status);
    std::this_thread::sleep_for(milliseconds(2));
  }
  return Kill();
}

HandlerProcess::Outcome HandlerProcess::Crashed(const std::string& why) {
  if (cgroup_ && cgroup_->OutOfMemory()) {
    // The same words as a handler's std::bad_alloc under RLIMIT_DATA (handler_host.cc).
    return {HandlerResult::Retry("memory limit exceeded: the handler process may use " +
                                 std::to_string(memory_limit_mb_) + " MiB (cgroup memory.max; " +
                                 why + ")"),
            End::kOutOfMemory};
  }
  return {HandlerResult::Retry("handler process " + std::to_string(pid_) + " " + why),
          End::kCrashed};
}

std::optional<HandlerProcess::Outcome> HandlerProcess::Begin(JobContext& job) {
  const int64_t sequence = ++sequence_;
  JobFrame frame{
      sequence,           job.id(),      job.type(),         job.queue(),
      job.data_json(),    job.attempt(), job.max_attempts(), Until(job.deadline()).count(),
      job.trace_parent(), job.children()};
  const std::string bytes = EncodeJob(frame);
  if (bytes.size() - 4 > kMaxJobFrameBytes) {
    return Outcome{HandlerResult::Fail("job of " + std::to_string(bytes.size()) +
                                       " bytes (data and children's results) is over what a "
                                       "handler process takes (" +
                                       std::to_string(kMaxJobFrameBytes >> 20) + " MiB)"),
                   End::kReusable};
  }
  deadline_kill_ = job.deadline() + kill_grace_;
  kill_at_ = deadline_kill_;
  stop_sent_ = false;
  next_stop_check_ = Clock::now() + kStopCheckEvery;
  // A large job blocks until the process has read it: it reads at once.
  if (!SendAll(socket_.get(), bytes)) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Crashed("did not take its job within 5 s (" + Kill() + ")");
    }
    return Crashed("crashed: " + Reap());
  }
  return std::nullopt;
}

std::optional<HandlerProcess::Outcome> HandlerProcess::OnReadable(JobContext& job) {
  if (!Receive()) return Crashed("crashed: " + Reap());
  for (;;) {
    auto next = reader_.Next();
    std::optional<std::string> broken;
    if (!next.ok()) {
      broken = next.status().message();
    } else if (!next->has_value()) {
      return std::nullopt;
    } else if ((*next)->kind == FrameKind::kProgress || (*next)->kind == FrameKind::kLog) {
      auto text = DecodeText((*next)->fields);
      if (!text.ok()) {
        broken = text.status().message();
      } else if ((*next)->kind == FrameKind::kProgress) {
        job.SetProgress(std::move(*text));
      } else {
        job.Log(std::move(*text));
      }
    } else if ((*next)->kind == FrameKind::kResult) {
      auto result = DecodeResult((*next)->fields);
      if (!result.ok()) {
        broken = result.status().message();
      } else if (result->memory_exceeded) {
        Reap();  // it exits after saying so
        return Outcome{std::move(result->result), End::kOutOfMemory};
      } else {
        return Outcome{std::move(result->result), End::kReusable};
      }
    } else {
      broken = "an unexpected frame";
    }
    if (broken) return Crashed("broke the protocol (" + *broken + "; " + Kill() + ")");
  }
}

std::optional<HandlerProcess::Outcome> HandlerProcess::OnTimer(JobContext& job) {
  const Clock::time_point now = Clock::now();
  next_stop_check_ = now + kStopCheckEvery;
  if (!stop_sent_ && job.stop_requested()) {
    stop_sent_ = true;
    kill_at_ = std::min(kill_at_, now + kill_grace_);
    SendAll(stops_.get(), EncodeStop(sequence_));  // one that is gone shows as the socket's end
  }
  if (now < kill_at_) return std::nullopt;
  const bool timed_out = kill_at_ == deadline_kill_;
  const std::string ended = Kill();
  return Outcome{HandlerResult::Retry("handler process " + std::to_string(pid_) + " stopped " +
                                      std::to_string(kill_grace_.count()) + " ms after " +
                                      (timed_out ? "the attempt's deadline" : "the stop request") +
                                      " (" + ended + ")"),
                 timed_out ? End::kTimedOut : End::kStopped};
}

HandlerProcess::Clock::time_point HandlerProcess::NextTimer() const {
  return stop_sent_ ? kill_at_ : std::min(kill_at_, next_stop_check_);
}

}  // namespace taskq::worker
