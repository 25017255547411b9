// The JSON bodies of POST /api/flows: what is accepted is a tree the flow rules accept, with one
// root and every job readable; what is refused is an invalid-argument answer.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <set>

#include "api/flow_request.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  taskq::FlowLimits limits;
  limits.max_depth = 4;  // small limits, so that inputs reach them
  limits.max_width = 6;
  limits.max_jobs = 40;
  limits.max_data_bytes = 2000;
  auto flow = taskq::api::ParseFlowRequest(taskq::fuzz::AsText(data, size), "",
                                           taskq::api::JobRequestLimits{}, limits, {});
  if (!flow.ok()) {
    TASKQ_FUZZ_CHECK(flow.status().code() == taskq::StatusCode::kInvalidArgument);
    for (const taskq::FieldError& e : flow.status().more_fields()) {
      TASKQ_FUZZ_CHECK(!e.field.empty());
    }
    return 0;
  }
  TASKQ_FUZZ_CHECK(taskq::ValidateFlow(*flow, limits).ok());
  TASKQ_FUZZ_CHECK(!flow->jobs.empty() && flow->jobs.size() <= limits.max_jobs);
  size_t roots = 0;
  std::set<std::string> refs;
  for (const taskq::FlowJob& job : flow->jobs) {
    roots += job.parent.empty();
    TASKQ_FUZZ_CHECK(refs.insert(job.ref).second);
    TASKQ_FUZZ_CHECK(!job.job.type.empty());
    TASKQ_FUZZ_CHECK(job.job.options.job_id.empty());
    boost::system::error_code ec;
    TASKQ_FUZZ_CHECK(boost::json::parse(job.job.data_json, ec).is_object() && !ec);
  }
  TASKQ_FUZZ_CHECK(roots == 1);
  return 0;
}
