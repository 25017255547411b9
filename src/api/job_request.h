// Reading the JSON bodies of POST /api/jobs and POST /api/jobs/bulk into enqueue requests. Every
// error names the field in the client's terms ("priority", "backoff.delay_ms", "jobs[3].data")
// and the rule it broke; unknown fields are refused, so a typo ("delay" for "delay_ms") is not
// silently ignored.
#pragma once

#include <boost/json/fwd.hpp>
#include <boost/json/storage_ptr.hpp>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/client.h"
#include "taskq/status.h"

namespace taskq::api {

struct JobRequestLimits {
  int max_json_depth = 32;
  size_t max_bulk = 1000;  // jobs per bulk request
};

// Checks a job type and its data beyond the generic rules: known types and each built-in type's
// own validator. Field names in its errors start with "data." or are "type".
using JobTypeCheck = std::function<Status(const EnqueueRequest&)>;

// Errors: kInvalidArgument with an empty field() when the body is not well-formed JSON (HTTP 400),
// kInvalidArgument naming the field when a field breaks a rule (422), kResourceExhausted when a
// bulk request holds too many jobs (413).
//
// Parses one job object. `idempotency_key` (the header, may be empty) becomes the job id when the
// body gives none.
Result<EnqueueRequest> ParseJobRequest(std::string_view body, std::string_view idempotency_key,
                                       const JobRequestLimits& limits,
                                       const JobTypeCheck& check_type);
// A request body parsed as JSON within limits.max_json_depth; a malformed body is kInvalidArgument
// with an empty field (400). `storage`: where the tree lives (a monotonic buffer for a single
// job: one allocation instead of one per node, on the API's hot path).
Result<boost::json::value> ParseBody(std::string_view body, const JobRequestLimits& limits,
                                     boost::json::storage_ptr storage = {});
// Reads one parsed job object of a larger body. `text` is the object's JSON text (its data is
// copied as written); `prefix` goes before every field named ("jobs[3]."); `callers_keys` are
// keys the caller reads itself, skipped here rather than refused as unknown.
Result<EnqueueRequest> ReadJob(const boost::json::value& v, std::string_view text,
                               const std::string& prefix, std::string_view idempotency_key,
                               const JobTypeCheck& check_type,
                               std::span<const std::string_view> callers_keys);
// Reads every job of a parsed array of job objects, named "<name>[i].<field>"; `array_text` is
// the array's JSON text (each job's data is copied as written). All or nothing: the error names
// every invalid field of every job.
Result<std::vector<EnqueueRequest>> ReadJobs(const boost::json::array& array,
                                             std::optional<std::string_view> array_text,
                                             std::string_view name, const JobTypeCheck& check_type);
// Parses {"jobs": [job, ...]}; all or nothing.
Result<std::vector<EnqueueRequest>> ParseBulkRequest(std::string_view body,
                                                     const JobRequestLimits& limits,
                                                     const JobTypeCheck& check_type);

}  // namespace taskq::api
