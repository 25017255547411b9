// The protocol between a worker and its handler processes (process isolation,
// docs/architecture.md), over two stream sockets per process: jobs and their results on one,
// stop requests alone on the other (so that the process reads each on its own thread, and a job
// needs no hand-over between threads). Every message is a frame:
//
//   length  u32, little endian: the bytes that follow (kind and fields), 1 to the reader's limit
//   kind    u8 (FrameKind)
//   fields  in the kind's order: integers as i64 little endian, texts as a u32 length and bytes
//
// jobs socket, worker -> process: kJob (one at a time).
// jobs socket, process -> worker: kReady (once, when its handlers are registered), kProgress and
// kLog (while a job runs), kResult (the job's end; the process then waits for the next kJob).
// stop socket, worker -> process: kStop (the job of that sequence number should stop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::worker {

enum class FrameKind : uint8_t {
  kReady = 1,
  kJob = 2,
  kStop = 3,
  kProgress = 4,
  kLog = 5,
  kResult = 6,
};

// What a handler process needs to run one attempt.
struct JobFrame {
  int64_t sequence = 0;  // the process's count of jobs: names the job in a stop request
  std::string id, type, queue, data_json;
  int32_t attempt = 1;
  int32_t max_attempts = 1;
  int64_t timeout_ms = 0;    // from when the process reads the frame to the attempt's deadline
  std::string trace_parent;  // JobContext::trace_parent
  // JobContext::children: a count, then per child its ref, id, completed (0/1) and JSON.
  std::vector<FlowChild> children;
};

// An attempt's end as the handler process saw it.
struct ResultFrame {
  HandlerResult result;
  // The handler ran out of memory under the process's cap (std::bad_alloc): the process exits
  // after sending this, and the worker counts a memory-cap stop.
  bool memory_exceeded = false;
};

// The largest frame each side accepts. Jobs carry their data (the client's limit is 512 KiB by
// default; a larger one configured is still far below this); a process's frames are bounded by
// handler_limits.h before they are sent.
inline constexpr size_t kMaxJobFrameBytes = size_t{64} << 20;
inline constexpr size_t kMaxProcessFrameBytes = size_t{4} << 20;
// A failure message a handler process sends is cut to this.
inline constexpr size_t kMaxMessageBytes = size_t{64} << 10;

std::string EncodeReady();
std::string EncodeJob(const JobFrame& job);
std::string EncodeStop(int64_t sequence);
std::string EncodeProgress(std::string_view progress_json);
std::string EncodeLog(std::string_view line);
std::string EncodeResult(const ResultFrame& result);

struct Frame {
  FrameKind kind = FrameKind::kReady;
  std::string fields;  // the frame's fields, still encoded
};

// Gathers the bytes read from a socket and hands out whole frames.
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  void Append(const char* data, size_t size) { buffer_.append(data, size); }
  // The next whole frame, or nullopt until more bytes arrive. kInvalidArgument when the stream
  // cannot be a stream of frames (a length of 0 or over the limit, an unknown kind); the reader
  // is then of no further use.
  Result<std::optional<Frame>> Next();

 private:
  const size_t max_frame_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already handed out
};

// Each decoder takes a frame's fields and refuses fields of the wrong shape (short, long, a
// number out of range) with kInvalidArgument.
Result<JobFrame> DecodeJob(std::string_view fields);
Result<std::string> DecodeText(std::string_view fields);  // kProgress, kLog
Result<ResultFrame> DecodeResult(std::string_view fields);
Result<int64_t> DecodeStop(std::string_view fields);  // the job's sequence number
// kReady carries nothing.
Status DecodeEmpty(std::string_view fields);

}  // namespace taskq::worker
