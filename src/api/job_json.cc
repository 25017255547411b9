#include "api/job_json.h"

#include <fmt/format.h>

#include "api/api_context.h"
#include "api/batch_json.h"
#include "api/flow_json.h"
#include "common/flow_ids.h"
#include "common/json_text.h"
#include "common/rfc3339.h"
#include "common/unique_key.h"

namespace taskq::api {
namespace {

void Field(std::string* out, const char* name) {
  if (out->back() != '{') out->push_back(',');
  out->push_back('"');
  *out += name;
  *out += "\":";
}

void IntField(std::string* out, const char* name, int64_t value) {
  Field(out, name);
  *out += std::to_string(value);
}

void StringField(std::string* out, const char* name, std::string_view value) {
  Field(out, name);
  AppendJsonString(out, value);
}

// Raw JSON produced by taskq or validated at enqueue; "null" when empty.
void RawField(std::string* out, const char* name, const std::string& json) {
  Field(out, name);
  *out += json.empty() ? "null" : json;
}

void RenderRetention(std::string* out, const char* name, const Retention& r) {
  Field(out, name);
  *out += "{\"count\":" + std::to_string(r.count) + ",\"age_ms\":" + std::to_string(r.age.count()) +
          "}";
}

// "links": self (JobLink) and wait.
void AppendLinks(std::string* out, const std::string& self) {
  const size_t q = self.find('?');
  const std::string base = self.substr(0, q), query = self.substr(q);
  Field(out, "links");
  *out += "{\"self\":";
  AppendJsonString(out, self);
  *out += ",\"wait\":";
  AppendJsonString(out, base + "/wait" + query);
  *out += '}';
}

}  // namespace

std::string JobLink(const std::string& queue, const std::string& id) {
  // Ids and queue names are limited to characters that need no escaping in a URL.
  return "/api/jobs/" + id + "?queue=" + queue;
}

namespace {

// RenderEnqueueResult with the job's link already made.
std::string RenderEnqueueResultLinked(const EnqueueResult& result, const std::string& self) {
  std::string out = "{";
  StringField(&out, "id", result.id);
  StringField(&out, "queue", result.queue);
  StringField(&out, "state", result.state ? JobStateName(*result.state) : "unknown");
  Field(&out, "created");
  out += result.created ? "true" : "false";
  if (result.unique_hit) {
    Field(&out, "unique_hit");
    out += "true";
  }
  AppendLinks(&out, self);
  out += '}';
  return out;
}

}  // namespace

std::string RenderEnqueueResult(const EnqueueResult& result) {
  return RenderEnqueueResultLinked(result, JobLink(result.queue, result.id));
}

HttpResponse CreatedJobResponse(const EnqueueResult& result) {
  std::string self = JobLink(result.queue, result.id);
  HttpResponse r = JsonResponse(201, RenderEnqueueResultLinked(result, self));
  r.headers.emplace_back("Location", std::move(self));
  return r;
}

std::string RenderJob(const Job& job, bool detail, const DataView& view) {
  std::string out;
  out.reserve(256 + job.data_json.size() + job.result_json.size());
  out += '{';
  StringField(&out, "id", job.id);
  StringField(&out, "queue", job.queue);
  StringField(&out, "type", job.type);
  StringField(&out, "state", JobStateName(job.state));
  const std::vector<std::string>* secret_fields = view.SecretFieldsOf(job.type);
  if (secret_fields == nullptr) {
    RawField(&out, "data", job.data_json);
  } else {
    RawField(&out, "data", view.redact ? RedactData(job.data_json, *secret_fields) : job.data_json);
    Field(&out, "secret_fields");
    out += '[';
    for (const std::string& field : *secret_fields) {
      if (out.back() != '[') out += ',';
      AppendJsonString(&out, field);
    }
    out += ']';
  }
  IntField(&out, "priority", job.options.priority);
  if (!job.options.group.empty()) StringField(&out, "group", job.options.group);
  IntField(&out, "attempts", job.attempts);
  IntField(&out, "max_attempts", job.options.max_attempts);
  IntField(&out, "stalls", job.stalls);
  IntField(&out, "created_ms", job.created_ms);
  if (job.started_ms) IntField(&out, "started_ms", job.started_ms);
  if (job.finished_ms) IntField(&out, "finished_ms", job.finished_ms);
  if (job.due_ms) IntField(&out, "due_ms", job.due_ms);
  if (job.overrunning_since_ms) {
    Field(&out, "overrunning");
    out += fmt::format("{{\"since_ms\":{},\"timeout_ms\":{}}}", job.overrunning_since_ms,
                       job.overrun_timeout_ms);
  }
  if (!job.progress_json.empty()) RawField(&out, "progress", job.progress_json);
  if (job.state == JobState::kCompleted) RawField(&out, "result", job.result_json);
  Field(&out, "options");
  out += '{';
  const BackoffPolicy& b = job.options.backoff;
  Field(&out, "backoff");
  out += "{\"type\":\"";
  out += BackoffTypeName(b.type);
  out += "\",\"delay_ms\":" + std::to_string(b.delay.count()) +
         ",\"max_delay_ms\":" + std::to_string(b.max_delay.count()) +
         ",\"jitter\":" + fmt::format("{}", b.jitter) + "}";
  IntField(&out, "timeout_ms", job.options.timeout.count());
  Field(&out, "retention");
  out += '{';
  RenderRetention(&out, "completed", job.options.keep_completed);
  RenderRetention(&out, "dead", job.options.keep_dead);
  out += '}';
  if (!job.options.trace_parent.empty()) StringField(&out, "traceparent", job.options.trace_parent);
  if (job.options.lifo) RawField(&out, "lifo", "true");
  if (job.options.expires_at_ms) {
    StringField(&out, "expires_at", FormatRfc3339Ms(*job.options.expires_at_ms));
  }
  if (!job.options.callback_url.empty()) {
    StringField(&out, "callback_url", job.options.callback_url);
  }
  if (job.options.unique) {
    const UniqueOptions& u = *job.options.unique;
    Field(&out, "unique");
    out += '{';
    // A key derived from the data is a hash of the secrets too: a reader could test guesses.
    StringField(&out, "key", secret_fields != nullptr && view.redact ? kRedacted : u.key);
    StringField(&out, "mode", UniqueModeName(u.mode));
    if (u.mode == UniqueOptions::Mode::kTtl) IntField(&out, "ttl_ms", u.ttl.count());
    out += '}';
  }
  out += '}';
  // The schedule that created it (docs/http-api.md, "Schedules"), null for other jobs.
  Field(&out, "schedule");
  if (job.options.schedule_id.empty()) {
    out += "null";
  } else {
    out += '{';
    StringField(&out, "id", job.options.schedule_id);
    IntField(&out, "fire_time_ms", job.options.schedule_fire_ms);
    out += '}';
  }
  // Its place in a flow or a batch (docs/workflows.md); left out for a job enqueued on its own.
  if (const std::optional<FlowPlace>& batch = job.options.flow; batch && batch->batch) {
    Field(&out, "batch");
    out += '{';
    StringField(&out, "id", batch->flow_id);
    StringField(&out, "role", batch->parent == kBatchCallbackParent ? batch->ref : "member");
    Field(&out, "links");
    out += "{\"batch\":";
    AppendJsonString(&out, BatchLink(batch->flow_id));
    out += "}}";
  } else if (const std::optional<FlowPlace>& flow = job.options.flow) {
    Field(&out, "flow");
    out += '{';
    StringField(&out, "id", flow->flow_id);
    StringField(&out, "ref", flow->ref);
    if (flow->parent.empty()) {
      RawField(&out, "parent", "null");
    } else {
      StringField(&out, "parent", flow->parent);
    }
    StringField(&out, "on_failure", ChildFailurePolicyName(flow->on_failure));
    RawField(&out, "has_children", flow->has_children ? "true" : "false");
    Field(&out, "links");
    out += "{\"flow\":";
    AppendJsonString(&out, FlowLink(flow->flow_id));
    out += "}}";
  }
  if (!job.errors.empty()) {
    const AttemptError& last = job.errors.front();
    StringField(&out, "error", last.message);
  }
  if (detail) {
    Field(&out, "errors");
    out += '[';
    for (const AttemptError& e : job.errors) {
      if (out.back() != '[') out += ',';
      out += "{\"attempt\":" + std::to_string(e.attempt) + ",\"at_ms\":" + std::to_string(e.at_ms) +
             ",\"message\":";
      AppendJsonString(&out, e.message);
      out += '}';
    }
    out += ']';
    Field(&out, "logs");
    out += '[';
    for (const std::string& line : job.logs) {
      if (out.back() != '[') out += ',';
      AppendJsonString(&out, line);
    }
    out += ']';
  }
  AppendLinks(&out, JobLink(job.queue, job.id));
  out += '}';
  return out;
}

std::string RenderExistingJob(const Job& job, const EnqueueResult& result, const DataView& view) {
  std::string out = RenderJob(job, true, view);
  // RenderJob's object opens with '{' and holds fields: ours go first.
  out.insert(1,
             result.unique_hit ? "\"created\":false,\"unique_hit\":true," : "\"created\":false,");
  return out;
}

}  // namespace taskq::api
