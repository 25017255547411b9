// JSON renderings of batches (docs/workflows.md, "Batches"), shared by the batch routes and the
// CLI.
#pragma once

#include <optional>
#include <string>

#include "taskq/batch_view.h"
#include "taskq/client.h"

namespace taskq::api {

// "/api/batches/<batch id>"
std::string BatchLink(const std::string& batch_id);
// A submission: {"id","queue","state","created","jobs":[{"id"}],"on_complete":{"id"}|null,
// "on_success":{"id"}|null,"links"}; "state" as `view` (read after the submission) has it, null
// when the batch could not be read.
std::string RenderSubmittedBatch(const BatchSubmitResult& result,
                                 const std::optional<BatchView>& view);
// An addition: {"id","addition_id","created","jobs":[{"id"}],"links"}.
std::string RenderBatchAddition(const BatchAddResult& result);
// {"id","queue","state","cancelled","total","pending","completed","dead","created_ms",
// "finished_ms","on_complete":{"id","state","cancelled"}|null,"on_success":...,"links"}.
std::string RenderBatch(const BatchView& batch);
// What a close or a cancel did: {"id","outcome"}.
std::string RenderBatchOutcome(const std::string& batch_id, std::string_view outcome);

}  // namespace taskq::api
