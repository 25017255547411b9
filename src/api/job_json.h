// JSON renderings of jobs and enqueue results, shared by the job and queue routes.
#pragma once

#include <string>

#include "api/data_redaction.h"
#include "api/http_message.h"
#include "taskq/client.h"
#include "taskq/job.h"

namespace taskq::api {

// "/api/jobs/<id>?queue=<queue>"
std::string JobLink(const std::string& queue, const std::string& id);
// {"id","queue","state","created","links"} for an enqueue that created the job.
std::string RenderEnqueueResult(const EnqueueResult& result);
// 201 with the new job (RenderEnqueueResult) and its Location (JobLink).
HttpResponse CreatedJobResponse(const EnqueueResult& result);
// How a caller sees job data: the secret fields of each type, and whether to redact them.
struct DataView {
  const SecretFields* secrets = nullptr;  // null: no type has secret fields
  bool redact = false;                    // the caller lacks the admin scope

  // The secret fields of jobs of `type`; null when it has none.
  const std::vector<std::string>* SecretFieldsOf(const std::string& type) const {
    if (secrets == nullptr) return nullptr;
    auto it = secrets->find(type);
    return it == secrets->end() || it->second.empty() ? nullptr : &it->second;
  }
};

// The whole job: data, options, attempts, errors, logs, result, progress, times (Unix ms).
// `detail` false leaves out errors and logs (for lists). A type with secret fields also lists
// them ("secret_fields"), and their values are redacted when `view.redact` is set.
std::string RenderJob(const Job& job, bool detail = true, const DataView& view = {});
// An enqueue that created nothing: the job that was there (its id, or the holder of the unique
// key), rendered as RenderJob does, with "created": false and, for a unique key, "unique_hit".
std::string RenderExistingJob(const Job& job, const EnqueueResult& result,
                              const DataView& view = {});

}  // namespace taskq::api
