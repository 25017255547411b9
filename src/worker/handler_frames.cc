#include "worker/handler_frames.h"

#include <cstring>
#include <limits>

namespace taskq::worker {
namespace {

// Builds one frame: the length is written last, once the fields are in.
class FrameWriter {
 public:
  explicit FrameWriter(FrameKind kind) {
    out_.resize(4);
    out_.push_back(static_cast<char>(kind));
  }
  FrameWriter& Int(int64_t value) {
    const auto bits = static_cast<uint64_t>(value);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    return *this;
  }
  FrameWriter& Text(std::string_view text) {
    PutU32(static_cast<uint32_t>(text.size()));
    out_.append(text);
    return *this;
  }
  std::string Done() {
    const auto length = static_cast<uint32_t>(out_.size() - 4);
    for (int i = 0; i < 4; ++i) out_[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    return std::move(out_);
  }

 private:
  void PutU32(uint32_t value) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
  std::string out_;
};

uint32_t ReadU32(const char* p) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return value;
}

// Reads a frame's fields in order; any shortfall or leftover is an error.
class FieldReader {
 public:
  explicit FieldReader(std::string_view fields) : rest_(fields) {}
  bool Int(int64_t* value) {
    if (rest_.size() < 8) return Fail();
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= uint64_t{static_cast<unsigned char>(rest_[i])} << (8 * i);
    *value = static_cast<int64_t>(bits);
    rest_.remove_prefix(8);
    return true;
  }
  bool Int32(int32_t* value, int64_t min, int64_t max) {
    int64_t wide = 0;
    if (!Int(&wide) || wide < min || wide > max) return Fail();
    *value = static_cast<int32_t>(wide);
    return true;
  }
  bool Text(std::string* text) {
    if (rest_.size() < 4) return Fail();
    const uint32_t size = ReadU32(rest_.data());
    rest_.remove_prefix(4);
    if (rest_.size() < size) return Fail();
    text->assign(rest_.data(), size);
    rest_.remove_prefix(size);
    return true;
  }
  // Every field read, nothing left over.
  Status Finish(std::string_view what) const {
    if (failed_ || !rest_.empty()) {
      return InvalidArgument("frame", std::string("malformed ") + std::string(what) + " frame");
    }
    return Status::Ok();
  }

 private:
  bool Fail() {
    failed_ = true;
    return false;
  }
  std::string_view rest_;
  bool failed_ = false;
};

bool KnownKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(FrameKind::kReady) &&
         kind <= static_cast<uint8_t>(FrameKind::kResult);
}

}  // namespace

std::string EncodeReady() { return FrameWriter(FrameKind::kReady).Done(); }

std::string EncodeJob(const JobFrame& job) {
  FrameWriter frame(FrameKind::kJob);
  frame.Int(job.sequence)
      .Text(job.id)
      .Text(job.type)
      .Text(job.queue)
      .Text(job.data_json)
      .Int(job.attempt)
      .Int(job.max_attempts)
      .Int(job.timeout_ms)
      .Text(job.trace_parent)
      .Int(static_cast<int64_t>(job.children.size()));
  for (const FlowChild& child : job.children) {
    frame.Text(child.ref).Text(child.id).Int(child.completed ? 1 : 0).Text(child.json);
  }
  return frame.Done();
}

std::string EncodeStop(int64_t sequence) {
  return FrameWriter(FrameKind::kStop).Int(sequence).Done();
}

std::string EncodeProgress(std::string_view progress_json) {
  return FrameWriter(FrameKind::kProgress).Text(progress_json).Done();
}

std::string EncodeLog(std::string_view line) {
  return FrameWriter(FrameKind::kLog).Text(line).Done();
}

std::string EncodeResult(const ResultFrame& result) {
  return FrameWriter(FrameKind::kResult)
      .Int(static_cast<int64_t>(result.result.kind))
      .Int(result.result.retry_after.count())
      .Text(result.result.result_json)
      .Text(result.result.message)
      .Int(result.memory_exceeded ? 1 : 0)
      .Done();
}

Result<std::optional<Frame>> FrameReader::Next() {
  const size_t available = buffer_.size() - consumed_;
  if (available < 4) return std::optional<Frame>();
  const uint32_t length = ReadU32(buffer_.data() + consumed_);
  if (length == 0 || length > max_frame_bytes_) {
    return InvalidArgument("frame", "frame length " + std::to_string(length) + " out of range");
  }
  if (available - 4 < length) return std::optional<Frame>();
  const auto kind = static_cast<uint8_t>(buffer_[consumed_ + 4]);
  if (!KnownKind(kind)) {
    return InvalidArgument("frame", "unknown frame kind " + std::to_string(kind));
  }
  Frame frame{static_cast<FrameKind>(kind), buffer_.substr(consumed_ + 5, length - 1)};
  consumed_ += 4 + length;
  // Drop what was handed out once it is most of the buffer, so the buffer never grows beyond
  // about twice one frame.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

Result<JobFrame> DecodeJob(std::string_view fields) {
  JobFrame job;
  FieldReader r(fields);
  constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
  int64_t children = 0;
  bool read = r.Int(&job.sequence) && r.Text(&job.id) && r.Text(&job.type) && r.Text(&job.queue) &&
              r.Text(&job.data_json) && r.Int32(&job.attempt, 1, kMaxInt32) &&
              r.Int32(&job.max_attempts, 1, kMaxInt32) && r.Int(&job.timeout_ms) &&
              r.Text(&job.trace_parent) && r.Int(&children);
  // Each child takes at least 20 bytes (three lengths and a flag): a count beyond what the frame
  // can hold is refused before anything is reserved for it.
  constexpr int64_t kMinChildBytes = 4 + 4 + 8 + 4;
  if (read && (children < 0 || children > static_cast<int64_t>(fields.size()) / kMinChildBytes)) {
    return InvalidArgument("frame", "malformed job frame");
  }
  for (int64_t i = 0; read && i < children; ++i) {
    FlowChild& child = job.children.emplace_back();
    int64_t completed = 0;
    read = r.Text(&child.ref) && r.Text(&child.id) && r.Int(&completed) && r.Text(&child.json);
    if (read && completed != 0 && completed != 1) {
      return InvalidArgument("frame", "malformed job frame");
    }
    child.completed = completed == 1;
  }
  TASKQ_RETURN_IF_ERROR(r.Finish("job"));
  if (job.timeout_ms < 0) return InvalidArgument("frame", "malformed job frame");
  return job;
}

Result<std::string> DecodeText(std::string_view fields) {
  std::string text;
  FieldReader r(fields);
  r.Text(&text);
  TASKQ_RETURN_IF_ERROR(r.Finish("text"));
  return text;
}

Result<ResultFrame> DecodeResult(std::string_view fields) {
  ResultFrame out;
  int64_t kind = 0, retry_after = 0, memory = 0;
  FieldReader r(fields);
  r.Int(&kind) && r.Int(&retry_after) && r.Text(&out.result.result_json) &&
      r.Text(&out.result.message) && r.Int(&memory);
  TASKQ_RETURN_IF_ERROR(r.Finish("result"));
  if (kind < static_cast<int64_t>(HandlerResult::Kind::kSuccess) ||
      kind > static_cast<int64_t>(HandlerResult::Kind::kRateLimited) ||
      (memory != 0 && memory != 1)) {
    return InvalidArgument("frame", "malformed result frame");
  }
  out.result.kind = static_cast<HandlerResult::Kind>(kind);
  out.result.retry_after = std::chrono::milliseconds(retry_after);
  out.memory_exceeded = memory == 1;
  return out;
}

Result<int64_t> DecodeStop(std::string_view fields) {
  int64_t sequence = 0;
  FieldReader r(fields);
  r.Int(&sequence);
  TASKQ_RETURN_IF_ERROR(r.Finish("stop"));
  return sequence;
}

Status DecodeEmpty(std::string_view fields) {
  if (!fields.empty()) return InvalidArgument("frame", "malformed frame: unexpected fields");
  return Status::Ok();
}

}  // namespace taskq::worker
