// The options of one job (priority, delays, retries and backoff, retention, unique keys, groups):
// the input is spliced into a job object after a fixed type and data, so that every mutation
// lands in the options rather than in the JSON around them. An accepted job then goes the way
// the client sends it: validated and encoded into its stored body, which must decode to the
// same options.
#include <cstdint>
#include <string>

#include "api/job_request.h"
#include "common/job_codec.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body =
      R"({"type":"t","data":{"n":1},)" + std::string(taskq::fuzz::AsText(data, size)) + "}";
  auto job = taskq::api::ParseJobRequest(
      body, "", {}, [](const taskq::EnqueueRequest&) { return taskq::Status::Ok(); });
  if (!job.ok()) {
    TASKQ_FUZZ_CHECK(job.status().code() == taskq::StatusCode::kInvalidArgument);
    return 0;
  }
  // (The input may name "type" again: as in any JSON object here, the last one counts.)
  TASKQ_FUZZ_CHECK(!job->type.empty());
  auto encoded = taskq::EncodeJobBody(job->type, job->data_json, job->options, {});
  if (!encoded.ok()) {
    TASKQ_FUZZ_CHECK(encoded.status().code() == taskq::StatusCode::kInvalidArgument);
    return 0;
  }
  // The enqueue script adds "c" (the creation time) in front.
  TASKQ_FUZZ_CHECK(encoded->size() > 1 && encoded->front() == '{');
  const std::string stored = R"({"c":1,)" + encoded->substr(1);
  const std::string& queue = job->options.queue.empty() ? job->type : job->options.queue;
  auto decoded = taskq::DecodeJobBody(stored, queue);
  TASKQ_FUZZ_CHECK(decoded.ok());
  const taskq::EnqueueOptions& a = job->options;
  const taskq::EnqueueOptions& b = decoded->options;
  TASKQ_FUZZ_CHECK(decoded->type == job->type);
  TASKQ_FUZZ_CHECK(a.priority == b.priority && a.max_attempts == b.max_attempts);
  TASKQ_FUZZ_CHECK(a.timeout == b.timeout);  // (the group travels beside the body)
  TASKQ_FUZZ_CHECK(a.backoff.delay == b.backoff.delay &&
                   a.backoff.max_delay == b.backoff.max_delay);
  TASKQ_FUZZ_CHECK(a.keep_completed.count == b.keep_completed.count &&
                   a.keep_dead.count == b.keep_dead.count);
  TASKQ_FUZZ_CHECK(a.unique.has_value() == b.unique.has_value());
  return 0;
}
