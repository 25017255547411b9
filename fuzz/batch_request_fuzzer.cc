// The JSON bodies of POST /api/batches and POST /api/batches/{id}/jobs: what is accepted is a
// batch (or an addition) the batch rules accept, every job readable, nothing past the limits;
// what is refused is an invalid-argument answer naming its fields. The first byte picks which.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <string>

#include "api/batch_request.h"
#include "fuzz_check.h"

namespace {

void CheckJob(const taskq::EnqueueRequest& job) {
  TASKQ_FUZZ_CHECK(!job.type.empty());
  TASKQ_FUZZ_CHECK(job.options.job_id.empty());
  TASKQ_FUZZ_CHECK(!job.options.unique.has_value());
  boost::system::error_code ec;
  TASKQ_FUZZ_CHECK(boost::json::parse(job.data_json, ec).is_object() && !ec);
}

void CheckRefusal(const taskq::Status& status) {
  TASKQ_FUZZ_CHECK(status.code() == taskq::StatusCode::kInvalidArgument);
  for (const taskq::FieldError& e : status.more_fields()) TASKQ_FUZZ_CHECK(!e.field.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  taskq::BatchLimits limits;
  limits.max_jobs = 20;  // small limits, so that inputs reach them
  limits.max_total = 40;
  limits.max_data_bytes = 2000;
  const std::string_view body = taskq::fuzz::AsText(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto batch =
        taskq::api::ParseBatchRequest(body, "", taskq::api::JobRequestLimits{}, limits, {});
    if (!batch.ok()) {
      CheckRefusal(batch.status());
      return 0;
    }
    TASKQ_FUZZ_CHECK(taskq::ValidateBatch(*batch, limits).ok());
    TASKQ_FUZZ_CHECK(batch->jobs.size() <= limits.max_jobs);
    for (const taskq::EnqueueRequest& job : batch->jobs) CheckJob(job);
    if (batch->on_complete) CheckJob(*batch->on_complete);
    if (batch->on_success) CheckJob(*batch->on_success);
    return 0;
  }
  auto addition =
      taskq::api::ParseBatchAddition(body, "", "q", taskq::api::JobRequestLimits{}, limits, {});
  if (!addition.ok()) {
    CheckRefusal(addition.status());
    return 0;
  }
  TASKQ_FUZZ_CHECK(taskq::ValidateBatchAddition(*addition, "q", limits).ok());
  TASKQ_FUZZ_CHECK(!addition->jobs.empty() && addition->jobs.size() <= limits.max_jobs);
  for (const taskq::EnqueueRequest& job : addition->jobs) CheckJob(job);
  return 0;
}
