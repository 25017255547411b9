#include "worker/handler_host.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>

#include "common/sanitizers.h"
#include "worker/handler_frames.h"
#include "worker/handler_limits.h"

namespace taskq::worker {
namespace {

// Exit codes of a handler process, which the worker reports when one ends.
constexpr int kExitWorkerGone = 0;
constexpr int kExitSetupFailed = 1;
constexpr int kExitProtocolError = 2;
constexpr int kExitOutOfMemory = 3;

using Clock = std::chrono::steady_clock;

// Frames to the worker, whole, from whichever thread of the handler sends them.
class WorkerLink {
 public:
  explicit WorkerLink(int fd) : fd_(fd) {}
  // False when the worker is gone.
  bool Send(const std::string& frame) {
    std::lock_guard lock(mu_);
    size_t sent = 0;
    while (sent < frame.size()) {
      const ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  const int fd_;
  std::mutex mu_;
};

// The sequence number of the job the worker last asked to stop; a job whose number it is should
// stop (a request for an earlier job may arrive after that job's result, and then names none).
struct StopState {
  std::atomic<int64_t> stop{-1};
};

[[noreturn]] void EndProcess(int code, const char* why) {
  if (why != nullptr) std::fprintf(stderr, "handler process %d: %s\n", ::getpid(), why);
  std::fflush(stderr);
  std::_Exit(code);
}

// Reads one whole frame from `fd`; ends the process when the worker closed it or broke the
// protocol.
Frame ReadFrame(int fd, FrameReader& reader) {
  char buffer[64 * 1024];
  for (;;) {
    auto frame = reader.Next();
    if (!frame.ok()) EndProcess(kExitProtocolError, frame.status().message().c_str());
    if (frame->has_value()) return std::move(**frame);
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) EndProcess(kExitWorkerGone, nullptr);
    reader.Append(buffer, static_cast<size_t>(n));
  }
}

// The stop thread: records each stop request. The process ends when the worker closes the
// socket, whatever the handler is doing.
void ReadStops(int fd, StopState& state) {
  FrameReader reader(kMaxJobFrameBytes);
  for (;;) {
    const Frame frame = ReadFrame(fd, reader);
    auto sequence = frame.kind == FrameKind::kStop ? DecodeStop(frame.fields)
                                                   : Result<int64_t>(Internal("unexpected frame"));
    if (!sequence.ok()) EndProcess(kExitProtocolError, sequence.status().message().c_str());
    state.stop = *sequence;
  }
}

// One attempt as the handler sees it: its progress and log lines go straight to the worker.
class HostJobContext final : public JobContext {
 public:
  HostJobContext(JobFrame job, WorkerLink& link, const StopState& stop)
      : job_(std::move(job)),
        link_(link),
        stop_(stop),
        deadline_(Clock::now() + std::chrono::milliseconds(job_.timeout_ms)) {}

  const std::string& id() const override { return job_.id; }
  const std::string& type() const override { return job_.type; }
  const std::string& queue() const override { return job_.queue; }
  const std::string& data_json() const override { return job_.data_json; }
  int32_t attempt() const override { return job_.attempt; }
  int32_t max_attempts() const override { return job_.max_attempts; }
  const std::string& trace_parent() const override { return job_.trace_parent; }
  const std::vector<FlowChild>& children() const override { return job_.children; }
  void SetProgress(std::string progress_json) override {
    // The processor drops progress over the limit too; sending it would only cost the socket.
    if (progress_json.size() <= kMaxProgressBytes) link_.Send(EncodeProgress(progress_json));
  }
  void Log(std::string line) override {
    TruncateLogLine(&line);
    link_.Send(EncodeLog(line));
  }
  bool stop_requested() const override { return stop_.stop.load() == job_.sequence; }
  Clock::time_point deadline() const override { return deadline_; }

 private:
  const JobFrame job_;
  WorkerLink& link_;
  const StopState& stop_;
  const Clock::time_point deadline_;
};

ResultFrame RunHandler(const HandlerRegistry& handlers, HostJobContext& job,
                       int64_t memory_limit_mb) {
  const RegisteredHandler* handler = handlers.Find(job.type());
  if (handler == nullptr) {
    return {HandlerResult::Retry("the handler process has no handler for job type '" + job.type() +
                                 "'")};
  }
  ResultFrame out;
  try {
    out.result = handler->handler(job);
  } catch (const std::bad_alloc&) {
    out.memory_exceeded = true;
    out.result = HandlerResult::Retry(memory_limit_mb > 0
                                          ? "memory limit exceeded: the handler process may use " +
                                                std::to_string(memory_limit_mb) + " MiB"
                                          : "out of memory in the handler process");
    return out;
  } catch (const std::exception& e) {
    out.result = HandlerResult::Retry(std::string("handler threw: ") + e.what());
  } catch (...) {
    out.result = HandlerResult::Retry("handler threw a non-standard exception");
  }
  if (out.result.kind == HandlerResult::Kind::kSuccess &&
      out.result.result_json.size() > kMaxResultBytes) {
    out.result = HandlerResult::Fail(ResultTooLargeText(out.result.result_json.size()));
  }
  if (out.result.kind != HandlerResult::Kind::kSuccess) out.result.result_json = "null";
  if (out.result.message.size() > kMaxMessageBytes) {
    out.result.message.resize(kMaxMessageBytes);
    out.result.message += " [truncated]";
  }
  return out;
}

}  // namespace

std::optional<HandlerProcessSettings> ParseHandlerProcessVariable(std::string_view value) {
  int64_t numbers[3] = {};
  for (int i = 0; i < 3; ++i) {
    const size_t colon = value.find(':');
    if ((i < 2) != (colon != std::string_view::npos)) return std::nullopt;  // exactly three
    const std::string_view part = value.substr(0, colon);
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), numbers[i]);
    if (part.empty() || error != std::errc() || end != part.data() + part.size()) {
      return std::nullopt;
    }
    value = i < 2 ? value.substr(colon + 1) : std::string_view();
  }
  const auto [fd, worker_pid, memory_limit_mb] = numbers;
  if (fd < 3 || fd > (1 << 20) || worker_pid < 1 || memory_limit_mb < 0 ||
      memory_limit_mb > (int64_t{1} << 30)) {
    return std::nullopt;
  }
  return HandlerProcessSettings{static_cast<int>(fd), worker_pid, memory_limit_mb};
}

std::optional<HandlerProcessSettings> HandlerProcessSettingsOfThisProcess() {
  const char* value = std::getenv(kHandlerProcessVariable);
  if (value == nullptr) return std::nullopt;
  auto settings = ParseHandlerProcessVariable(value);
  if (!settings || settings->worker_pid != ::getppid()) return std::nullopt;
  for (int fd : {settings->socket_fd, settings->socket_fd + 1}) {
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return std::nullopt;
  }
  return settings;
}

int ServeHandlers(const HandlerProcessSettings& settings, const HandlerRegistry& handlers) {
  // The process ends with its worker, however the worker ends (the worker also closes the
  // socket, which ends it below). Checked after asking: the worker may have gone already.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != settings.worker_pid) return kExitWorkerGone;
  // Handlers that start programs of their own must not pass the variable on.
  ::unsetenv(kHandlerProcessVariable);
  if (settings.memory_limit_mb > 0 && !kAddressSanitizer) {
    const rlim_t bytes = static_cast<rlim_t>(settings.memory_limit_mb) << 20;
    const rlimit limit{bytes, bytes};
    if (::setrlimit(RLIMIT_DATA, &limit) != 0) {
      EndProcess(kExitSetupFailed, "cannot set RLIMIT_DATA");
    }
  }
  // Programs a handler starts must not hold the sockets: the worker sees this process end by
  // their end.
  for (int fd : {settings.socket_fd, settings.socket_fd + 1}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  WorkerLink link(settings.socket_fd);
  StopState stops;
  // Started before kReady: a process that cannot start its thread (under a small memory cap)
  // ends before it says it is ready, so the worker sees a failed start, not a crash.
  std::thread stop_reader([&] { ReadStops(settings.socket_fd + 1, stops); });
  stop_reader.detach();  // it ends the process; nothing joins it
  if (!link.Send(EncodeReady())) return kExitWorkerGone;
  FrameReader reader(kMaxJobFrameBytes);
  for (;;) {
    const Frame frame = ReadFrame(settings.socket_fd, reader);
    if (frame.kind != FrameKind::kJob) EndProcess(kExitProtocolError, "unexpected frame");
    auto decoded = DecodeJob(frame.fields);
    if (!decoded.ok()) EndProcess(kExitProtocolError, decoded.status().message().c_str());
    HostJobContext job(std::move(*decoded), link, stops);
    const ResultFrame result = RunHandler(handlers, job, settings.memory_limit_mb);
    if (!link.Send(EncodeResult(result))) EndProcess(kExitWorkerGone, nullptr);
    // After std::bad_alloc the heap may be left in any state: a fresh process takes over.
    if (result.memory_exceeded) EndProcess(kExitOutOfMemory, nullptr);
  }
}

}  // namespace taskq::worker
