#include "api/batch_json.h"

#include "common/json_text.h"

namespace taskq::api {
namespace {

std::string LinksOf(const std::string& batch_id) {
  return "\"links\":{\"self\":" + JsonString(BatchLink(batch_id)) + "}";
}

// [{"id":...}, ...]
std::string IdList(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (const std::string& id : ids) {
    if (out.size() > 1) out += ',';
    out += "{\"id\":" + JsonString(id) + "}";
  }
  return out + "]";
}

std::string IdOrNull(const std::string& id) {
  return id.empty() ? "null" : "{\"id\":" + JsonString(id) + "}";
}

std::string RenderCallback(const std::optional<BatchCallback>& callback) {
  if (!callback) return "null";
  return "{\"id\":" + JsonString(callback->id) + ",\"state\":" +
         // null: removed, or deleted by its retention
         (callback->state ? JsonString(JobStateName(*callback->state)) : "null") +
         ",\"cancelled\":" + (callback->cancelled ? "true" : "false") + "}";
}

}  // namespace

std::string BatchLink(const std::string& batch_id) {
  // Batch ids are a queue name, ':' and a batch key: nothing in them needs escaping in a path.
  return "/api/batches/" + batch_id;
}

std::string RenderSubmittedBatch(const BatchSubmitResult& result,
                                 const std::optional<BatchView>& view) {
  const std::string queue = result.batch_id.substr(0, result.batch_id.find(':'));
  return "{\"id\":" + JsonString(result.batch_id) + ",\"queue\":" + JsonString(queue) +
         ",\"state\":" + (view ? JsonString(BatchStateName(view->state)) : "null") +
         ",\"created\":" + (result.created ? "true" : "false") +
         ",\"jobs\":" + IdList(result.job_ids) +
         ",\"on_complete\":" + IdOrNull(result.on_complete_id) +
         ",\"on_success\":" + IdOrNull(result.on_success_id) + "," + LinksOf(result.batch_id) + "}";
}

std::string RenderBatchAddition(const BatchAddResult& result) {
  return "{\"id\":" + JsonString(result.batch_id) +
         ",\"addition_id\":" + JsonString(result.addition_id) +
         ",\"created\":" + (result.created ? "true" : "false") +
         ",\"jobs\":" + IdList(result.job_ids) + "," + LinksOf(result.batch_id) + "}";
}

std::string RenderBatch(const BatchView& batch) {
  return "{\"id\":" + JsonString(batch.id) + ",\"queue\":" + JsonString(batch.queue) +
         ",\"state\":" + JsonString(BatchStateName(batch.state)) +
         ",\"cancelled\":" + (batch.cancelled ? "true" : "false") +
         ",\"total\":" + std::to_string(batch.total) +
         ",\"pending\":" + std::to_string(batch.pending) +
         ",\"completed\":" + std::to_string(batch.completed) +
         ",\"dead\":" + std::to_string(batch.dead) +
         ",\"created_ms\":" + std::to_string(batch.created_ms) + ",\"finished_ms\":" +
         (batch.finished_ms > 0 ? std::to_string(batch.finished_ms) : "null") +
         ",\"on_complete\":" + RenderCallback(batch.on_complete) +
         ",\"on_success\":" + RenderCallback(batch.on_success) + "," + LinksOf(batch.id) + "}";
}

std::string RenderBatchOutcome(const std::string& batch_id, std::string_view outcome) {
  return "{\"id\":" + JsonString(batch_id) + ",\"outcome\":" + JsonString(outcome) + "}";
}

}  // namespace taskq::api
