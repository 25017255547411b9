// JSON renderings of flows (docs/workflows.md), shared by the flow routes and the CLI.
#pragma once

#include <optional>
#include <string>

#include "taskq/client.h"
#include "taskq/flow_view.h"

namespace taskq::api {

// "/api/flows/<flow id>"
std::string FlowLink(const std::string& flow_id);
// A submission: {"id","queue","state","created","jobs":[{"ref","id","queue","state"}],"links"},
// the jobs in the request's order, their states as `view` (read after the submission) has them;
// "state" null when the flow could not be read.
std::string RenderSubmittedFlow(const FlowSubmitResult& result,
                                const std::optional<FlowView>& view);
// The whole tree: {"id","queue","state","created_ms","finished_ms","jobs":[...],"links"}; each job
// with its parent, policy, state, cancel flag, the queue it runs in, its children's join when it
// is a parent, and a link to the job where it is now.
std::string RenderFlow(const FlowView& flow);
// What a cancel of the flow did: {"id","outcome":"cancelled"|"stop_requested"}.
std::string RenderFlowCancel(const std::string& flow_id, RemoveOutcome outcome);

}  // namespace taskq::api
