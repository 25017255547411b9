// The JSON bodies of POST /api/jobs and POST /api/jobs/bulk, checked by the built-in types'
// validators as the API checks them. The first byte picks single or bulk.
#include <boost/json/parse.hpp>
#include <cstdint>

#include "api/job_request.h"
#include "fuzz_check.h"
#include "handlers/cleanup.h"
#include "handlers/email.h"
#include "handlers/export.h"
#include "handlers/image_resize.h"
#include "handlers/webhook.h"

namespace {

using taskq::EnqueueRequest;
using taskq::Status;
using taskq::StatusCode;

Status CheckType(const EnqueueRequest& request) {
  namespace h = taskq::handlers;
  if (request.type == "email") return h::ValidateEmailData(request.data_json, {});
  if (request.type == "webhook") return h::ValidateWebhookData(request.data_json);
  if (request.type == "image-resize") return h::ValidateImageResizeData(request.data_json);
  if (request.type == "export") return h::ValidateExportData(request.data_json);
  if (request.type == "cleanup") return h::ValidateCleanupData(request.data_json);
  return Status::Ok();
}

// What any accepted job must be: a type, and data that is a JSON object.
void CheckAccepted(const EnqueueRequest& request) {
  TASKQ_FUZZ_CHECK(!request.type.empty());
  boost::system::error_code ec;
  const boost::json::value data = boost::json::parse(request.data_json, ec);
  TASKQ_FUZZ_CHECK(!ec);
  TASKQ_FUZZ_CHECK(data.is_object());
}

void CheckRefused(const Status& status) {
  TASKQ_FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument ||
                   status.code() == StatusCode::kResourceExhausted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool bulk = (data[0] & 1) != 0;
  const std::string_view body = taskq::fuzz::AsText(data + 1, size - 1);
  taskq::api::JobRequestLimits limits;
  limits.max_bulk = 50;
  if (bulk) {
    auto jobs = taskq::api::ParseBulkRequest(body, limits, CheckType);
    if (!jobs.ok()) return CheckRefused(jobs.status()), 0;
    TASKQ_FUZZ_CHECK(!jobs->empty() && jobs->size() <= limits.max_bulk);
    for (const EnqueueRequest& job : *jobs) CheckAccepted(job);
  } else {
    auto job = taskq::api::ParseJobRequest(body, "idem-1", limits, CheckType);
    if (!job.ok()) return CheckRefused(job.status()), 0;
    CheckAccepted(*job);
  }
  return 0;
}
