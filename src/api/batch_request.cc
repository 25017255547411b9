#include "api/batch_request.h"

#include <boost/json/value.hpp>
#include <functional>

#include "common/field_errors.h"
#include "common/json_fields.h"
#include "common/json_span.h"
#include "taskq/flow.h"

namespace taskq::api {
namespace {

namespace json = boost::json;

// The id the body names (`field`) or the Idempotency-Key names, which must agree.
void ReadId(const json::value* value, std::string_view field, std::string_view idempotency_key,
            size_t max_bytes, FieldErrors& errors, std::string* out) {
  const std::string name(field);
  const std::string rule =
      "must be 1 to " + std::to_string(max_bytes) + " of A-Z, a-z, 0-9, _ and -";
  if (value) {
    Status s = ReadString(*value, name, out);
    if (s.ok() && !IsFlowName(*out, max_bytes)) s = InvalidArgument(name, rule);
    errors.Add(s);
  }
  if (idempotency_key.empty()) return;
  if (!IsFlowName(idempotency_key, max_bytes)) {
    errors.Add(InvalidArgument("Idempotency-Key", rule));
  } else if (out->empty()) {
    *out = std::string(idempotency_key);
  } else if (*out != idempotency_key) {
    errors.Add(InvalidArgument(name, "differs from the Idempotency-Key header"));
  }
}

// The "jobs" list of a creation or an addition: counted against the limit before any job is
// read, so that a request far over it costs no more than its parse.
void ReadJobList(const json::value* value, std::string_view body, const BatchLimits& batch_limits,
                 const JobTypeCheck& check_type, FieldErrors& errors,
                 std::vector<EnqueueRequest>* out) {
  if (!value) return;
  if (!value->is_array()) {
    errors.Add(InvalidArgument("jobs", "must be an array of job objects"));
    return;
  }
  const json::array& array = value->get_array();
  if (array.size() > batch_limits.max_jobs) {
    errors.Add(InvalidArgument("jobs", "holds " + std::to_string(array.size()) +
                                           " jobs; a batch request holds at most " +
                                           std::to_string(batch_limits.max_jobs)));
    return;
  }
  auto jobs = ReadJobs(array, JsonMemberText(body, "jobs"), "jobs", check_type);
  if (jobs.ok()) {
    *out = std::move(*jobs);
  } else {
    errors.Add(jobs.status());
  }
}

// The members of a body: its id (`id_key`) and its jobs are kept for later, the rest go to
// `other`, whose invalid fields go to `errors`. Returns an error of another kind as it is.
Status ReadMembers(const json::object& object, std::string_view id_key, const json::value** id,
                   const json::value** jobs,
                   const std::function<Status(std::string_view, const json::value&)>& other,
                   FieldErrors& errors) {
  for (const auto& [key, value] : object) {
    if (key == id_key) {
      *id = &value;
    } else if (key == "jobs") {
      *jobs = &value;
    } else if (Status s = other(key, value); !errors.Add(s)) {
      return s;
    }
  }
  return Status::Ok();
}

Result<json::object> ParseObject(std::string_view body, const JobRequestLimits& limits) {
  auto root = ParseBody(body, limits);
  if (!root.ok()) return root.status();
  if (!root->is_object()) return InvalidArgument("(body)", "must be a JSON object");
  return std::move(root->get_object());
}

}  // namespace

Result<BatchRequest> ParseBatchRequest(std::string_view body, std::string_view idempotency_key,
                                       const JobRequestLimits& limits,
                                       const BatchLimits& batch_limits,
                                       const JobTypeCheck& check_type) {
  auto object = ParseObject(body, limits);
  if (!object.ok()) return object.status();
  BatchRequest batch;
  FieldErrors errors;
  const json::value* id = nullptr;
  const json::value* jobs = nullptr;
  Status read = ReadMembers(
      *object, "batch_id", &id, &jobs,
      [&](std::string_view key, const json::value& value) {
        if (key == "on_complete" || key == "on_success") {
          const std::string name(key);
          auto job = ReadJob(value, JsonMemberText(body, name).value_or(""), name + ".", {},
                             check_type, {});
          if (!job.ok()) return job.status();
          (key == "on_complete" ? batch.on_complete : batch.on_success) = std::move(*job);
        } else if (key == "open") {
          if (!value.is_bool()) return InvalidArgument("open", "must be true or false");
          batch.open = value.get_bool();
        } else if (key == "retention_ms") {
          int64_t ms = 0;
          TASKQ_RETURN_IF_ERROR(ReadInteger(value, "retention_ms", 0, kMaxFieldMs, &ms));
          batch.retention = std::chrono::milliseconds(ms);
        } else {
          return InvalidArgument(FieldNameOf(key), "unknown field");
        }
        return Status::Ok();
      },
      errors);
  if (!read.ok()) return read;
  ReadId(id, "batch_id", idempotency_key, kMaxBatchIdBytes, errors, &batch.batch_id);
  if (!jobs && !batch.open) {
    errors.Add(InvalidArgument("jobs",
                               "is required: an array of job objects (an open batch may "
                               "leave it out and add its jobs later)"));
  }
  ReadJobList(jobs, body, batch_limits, check_type, errors, &batch.jobs);
  if (!errors.empty()) return std::move(errors).ToStatus();
  TASKQ_RETURN_IF_ERROR(ValidateBatch(batch, batch_limits));
  return batch;
}

Result<BatchAddition> ParseBatchAddition(std::string_view body, std::string_view idempotency_key,
                                         std::string_view queue, const JobRequestLimits& limits,
                                         const BatchLimits& batch_limits,
                                         const JobTypeCheck& check_type) {
  auto object = ParseObject(body, limits);
  if (!object.ok()) return object.status();
  BatchAddition addition;
  FieldErrors errors;
  const json::value* id = nullptr;
  const json::value* jobs = nullptr;
  Status read = ReadMembers(
      *object, "addition_id", &id, &jobs,
      [](std::string_view key, const json::value&) {
        return InvalidArgument(FieldNameOf(key), "unknown field");
      },
      errors);
  if (!read.ok()) return read;
  ReadId(id, "addition_id", idempotency_key, kMaxBatchAdditionBytes, errors, &addition.addition_id);
  if (!jobs) errors.Add(InvalidArgument("jobs", "is required: an array of job objects"));
  ReadJobList(jobs, body, batch_limits, check_type, errors, &addition.jobs);
  if (!errors.empty()) return std::move(errors).ToStatus();
  TASKQ_RETURN_IF_ERROR(ValidateBatchAddition(addition, queue, batch_limits));
  return addition;
}

}  // namespace taskq::api
