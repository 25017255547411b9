// The frames a worker and its handler processes exchange (worker/handler_frames.h): any bytes,
// read in chunks of any size, give whole frames or a refusal, never a crash, and every frame
// that decodes encodes back to the same bytes.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "worker/handler_frames.h"

namespace {
using namespace taskq::worker;

constexpr size_t kLimit = 1 << 16;

// The frame as it stood in the stream: its length, its kind and its fields.
std::string Framed(const Frame& frame) {
  const auto length = static_cast<uint32_t>(frame.fields.size() + 1);
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  out.push_back(static_cast<char>(frame.kind));
  return out + frame.fields;
}

void CheckRoundTrip(const Frame& frame) {
  TASKQ_FUZZ_CHECK(frame.fields.size() + 1 <= kLimit);
  const std::string original = Framed(frame);
  switch (frame.kind) {
    case FrameKind::kReady:
      if (DecodeEmpty(frame.fields).ok()) TASKQ_FUZZ_CHECK(original == EncodeReady());
      break;
    case FrameKind::kStop:
      if (auto sequence = DecodeStop(frame.fields); sequence.ok()) {
        TASKQ_FUZZ_CHECK(EncodeStop(*sequence) == original);
      }
      break;
    case FrameKind::kJob:
      if (auto job = DecodeJob(frame.fields); job.ok()) {
        TASKQ_FUZZ_CHECK(EncodeJob(*job) == original);
      }
      break;
    case FrameKind::kProgress:
    case FrameKind::kLog:
      if (auto text = DecodeText(frame.fields); text.ok()) {
        TASKQ_FUZZ_CHECK(
            (frame.kind == FrameKind::kLog ? EncodeLog(*text) : EncodeProgress(*text)) == original);
      }
      break;
    case FrameKind::kResult:
      if (auto result = DecodeResult(frame.fields); result.ok()) {
        TASKQ_FUZZ_CHECK(EncodeResult(*result) == original);
      }
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 16;  // how the bytes arrive
  const std::string_view stream = taskq::fuzz::AsText(data + 1, size - 1);
  FrameReader reader(kLimit);
  for (size_t at = 0; at < stream.size(); at += step) {
    const std::string_view chunk = stream.substr(at, step);
    reader.Append(chunk.data(), chunk.size());
    for (;;) {
      auto frame = reader.Next();
      if (!frame.ok()) return 0;  // refused: the reader is done
      if (!frame->has_value()) break;
      CheckRoundTrip(**frame);
    }
  }
  return 0;
}
