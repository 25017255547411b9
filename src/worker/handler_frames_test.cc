#include "worker/handler_frames.h"

#include <gtest/gtest.h>

#include <string>

namespace taskq::worker {
namespace {

// Feeds `bytes` to a reader `step` bytes at a time and returns every frame it hands out.
std::vector<Frame> ReadAll(const std::string& bytes, size_t step, size_t limit = 1 << 20) {
  FrameReader reader(limit);
  std::vector<Frame> frames;
  for (size_t at = 0; at < bytes.size(); at += step) {
    reader.Append(bytes.data() + at, std::min(step, bytes.size() - at));
    for (;;) {
      auto frame = reader.Next();
      EXPECT_TRUE(frame.ok()) << frame.status().ToString();
      if (!frame.ok() || !frame->has_value()) break;
      frames.push_back(std::move(**frame));
    }
  }
  return frames;
}

TEST(HandlerFramesTest, EveryKindSurvivesTheTripWhateverTheReadSizes) {
  JobFrame job{77,
               "01ID",
               "image-resize",
               "images",
               R"({"a":"\u0000 bytes \n"})",
               2,
               5,
               1234,
               "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
  job.data_json.push_back('\0');  // any byte
  ResultFrame result{HandlerResult::RetryAfter("slow down", std::chrono::milliseconds(250)), false};
  result.result.result_json = R"({"ok":true})";
  const std::string stream =
      EncodeReady() + EncodeJob(job) + EncodeStop(77) + EncodeProgress(R"({"done":3})") +
      EncodeLog("a line") + EncodeResult(result) + EncodeResult({HandlerResult::Fail("out"), true});
  for (size_t step : {size_t{1}, size_t{3}, size_t{7}, stream.size()}) {
    const std::vector<Frame> frames = ReadAll(stream, step);
    ASSERT_EQ(frames.size(), 7u) << step;
    EXPECT_EQ(frames[0].kind, FrameKind::kReady);
    EXPECT_TRUE(DecodeEmpty(frames[0].fields).ok());
    ASSERT_EQ(frames[1].kind, FrameKind::kJob);
    auto decoded = DecodeJob(frames[1].fields);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->id, job.id);
    EXPECT_EQ(decoded->type, job.type);
    EXPECT_EQ(decoded->queue, job.queue);
    EXPECT_EQ(decoded->data_json, job.data_json);
    EXPECT_EQ(decoded->attempt, 2);
    EXPECT_EQ(decoded->max_attempts, 5);
    EXPECT_EQ(decoded->timeout_ms, 1234);
    EXPECT_EQ(decoded->trace_parent, job.trace_parent);
    EXPECT_EQ(decoded->sequence, 77);
    EXPECT_EQ(frames[2].kind, FrameKind::kStop);
    EXPECT_EQ(*DecodeStop(frames[2].fields), 77);
    EXPECT_EQ(*DecodeText(frames[3].fields), R"({"done":3})");
    EXPECT_EQ(frames[4].kind, FrameKind::kLog);
    EXPECT_EQ(*DecodeText(frames[4].fields), "a line");
    auto retry = DecodeResult(frames[5].fields);
    ASSERT_TRUE(retry.ok());
    EXPECT_EQ(retry->result.kind, HandlerResult::Kind::kRetry);
    EXPECT_EQ(retry->result.message, "slow down");
    EXPECT_EQ(retry->result.retry_after, std::chrono::milliseconds(250));
    EXPECT_EQ(retry->result.result_json, R"({"ok":true})");
    EXPECT_FALSE(retry->memory_exceeded);
    auto failed = DecodeResult(frames[6].fields);
    ASSERT_TRUE(failed.ok());
    EXPECT_EQ(failed->result.kind, HandlerResult::Kind::kFail);
    EXPECT_TRUE(failed->memory_exceeded);
  }
}

TEST(HandlerFramesTest, ALengthOfZeroOrOverTheLimitOrAnUnknownKindIsRefused) {
  FrameReader zero(100);
  zero.Append("\0\0\0\0\1", 5);
  EXPECT_FALSE(zero.Next().ok());

  const std::string big = EncodeLog(std::string(200, 'x'));
  FrameReader limited(100);
  limited.Append(big.data(), 4);  // the length alone is enough to refuse it
  EXPECT_FALSE(limited.Next().ok());

  FrameReader unknown(100);
  unknown.Append("\1\0\0\0\x09", 5);
  EXPECT_FALSE(unknown.Next().ok());
  FrameReader zero_kind(100);
  zero_kind.Append("\1\0\0\0\0", 5);
  EXPECT_FALSE(zero_kind.Next().ok());
}

TEST(HandlerFramesTest, AFlowParentsChildrenTravelWithItsJob) {
  JobFrame job{3, "k.root", "report", "reports", "{}", 1, 1, 500};
  job.children = {{"a", "k.a", true, R"({"rows":3})"}, {"b", "k.b", false, R"("disk full")"}};
  auto decoded = DecodeJob(EncodeJob(job).substr(5));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->children.size(), 2u);
  EXPECT_EQ(decoded->children[0].ref, "a");
  EXPECT_EQ(decoded->children[0].id, "k.a");
  EXPECT_TRUE(decoded->children[0].completed);
  EXPECT_EQ(decoded->children[0].json, R"({"rows":3})");
  EXPECT_EQ(decoded->children[1].ref, "b");
  EXPECT_FALSE(decoded->children[1].completed);
  EXPECT_EQ(decoded->children[1].json, R"("disk full")");
  EXPECT_EQ(decoded->timeout_ms, 500);
}

TEST(HandlerFramesTest, AChildCountTheFrameCannotHoldIsRefused) {
  std::string fields = EncodeJob({1, "id", "t", "q", "{}", 1, 1, 0}).substr(5);
  // The count is the last field: claim 2^40 children in a frame that holds none.
  fields[fields.size() - 3] = 1;
  EXPECT_FALSE(DecodeJob(fields).ok());
  // A completed flag other than 0 or 1.
  JobFrame job{1, "id", "t", "q", "{}", 1, 1, 0};
  job.children = {{"a", "k.a", true, "null"}};
  std::string bad_flag = EncodeJob(job).substr(5);
  bad_flag[bad_flag.size() - 4 - 4 - 8] = 2;  // before the json's length and text ("null")
  EXPECT_FALSE(DecodeJob(bad_flag).ok());
}

TEST(HandlerFramesTest, FieldsOfTheWrongShapeAreRefused) {
  JobFrame job{1, "id", "t", "q", "{}", 1, 1, 0};
  std::string fields = EncodeJob(job).substr(5);
  EXPECT_TRUE(DecodeJob(fields).ok());
  EXPECT_FALSE(DecodeJob(fields.substr(0, fields.size() - 1)).ok());  // short
  EXPECT_FALSE(DecodeJob(fields + "x").ok());                         // long
  // A text whose length runs past the end.
  EXPECT_FALSE(DecodeText(std::string("\xff\xff\xff\x7f", 4) + "abc").ok());
  // attempt 0 and a negative timeout.
  job.attempt = 1;
  job.timeout_ms = -1;
  EXPECT_FALSE(DecodeJob(EncodeJob(job).substr(5)).ok());
  std::string zero_attempt = EncodeJob({1, "id", "t", "q", "{}", 1, 1, 0}).substr(5);
  // attempt, max_attempts and timeout_ms (8 bytes each), then the empty trace_parent (4) and
  // the count of children (8).
  const size_t attempt_at = zero_attempt.size() - 24 - 4 - 8;
  zero_attempt[attempt_at] = 0;
  EXPECT_FALSE(DecodeJob(zero_attempt).ok());
  // A result kind out of range, and a memory flag other than 0 or 1.
  std::string result = EncodeResult({HandlerResult::Success(), false}).substr(5);
  std::string bad_kind = result;
  bad_kind[0] = 9;
  EXPECT_FALSE(DecodeResult(bad_kind).ok());
  std::string bad_flag = result;
  bad_flag[bad_flag.size() - 8] = 2;
  EXPECT_FALSE(DecodeResult(bad_flag).ok());
  EXPECT_FALSE(DecodeEmpty("x").ok());
  EXPECT_FALSE(DecodeStop("").ok());
  EXPECT_FALSE(DecodeStop(EncodeStop(1).substr(5) + "x").ok());
}

}  // namespace
}  // namespace taskq::worker
