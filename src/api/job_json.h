// JSON renderings of jobs and enqueue results, shared by the job and queue routes.
#pragma once

#include <string>

#include "taskq/client.h"
#include "taskq/job.h"

namespace taskq::api {

// "/api/jobs/<id>?queue=<queue>"
std::string JobLink(const std::string& queue, const std::string& id);
// {"id","queue","state","created","links"} for an enqueue that created the job.
std::string RenderEnqueueResult(const EnqueueResult& result);
// The whole job: data, options, attempts, errors, logs, result, progress, times (Unix ms).
// `detail` false leaves out errors and logs (for lists).
std::string RenderJob(const Job& job, bool detail = true);
// An enqueue that created nothing: the job that was there (its id, or the holder of the unique
// key), rendered as RenderJob does, with "created": false and, for a unique key, "unique_hit".
std::string RenderExistingJob(const Job& job, const EnqueueResult& result);

}  // namespace taskq::api
