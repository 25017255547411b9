// The OpenAPI 3 document, generated from the registered routes (so every route is in it and
// nothing else is) plus the schemas of the bodies they read and write.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_context.h"

namespace taskq::api {
namespace {

namespace json = boost::json;

// Schemas named by RouteDoc::request_schema / response_schema.
constexpr const char* kSchemas = R"({
  "Error": {"type": "object", "description": "RFC 9457 problem details, with taskq's extensions.",
    "required": ["type", "title", "status", "detail", "code"], "properties": {
    "type": {"type": "string", "format": "uri", "description": "urn:taskq:problem:<code>"},
    "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"},
    "code": {"type": "string", "description": "invalid_field, not_found, conflict, ..."},
    "field": {"type": "string", "description": "The (first) field, header or parameter at fault."},
    "errors": {"type": "array", "description": "invalid_field: every invalid field found.",
      "items": {"type": "object", "required": ["field", "detail"], "properties": {
        "field": {"type": "string"}, "detail": {"type": "string"}}}}}},
  "Retention": {"type": "object", "additionalProperties": false, "properties": {
    "count": {"type": "integer", "minimum": 0}, "age_ms": {"type": "integer", "minimum": 0}}},
  "JobRequest": {"type": "object", "required": ["type"], "additionalProperties": false,
    "properties": {
      "type": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
      "data": {"type": "object"},
      "queue": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
      "job_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"},
      "priority": {"type": "integer", "minimum": -1000000, "maximum": 1000000},
      "group": {"type": "string", "minLength": 1, "maxLength": 128},
      "delay_ms": {"type": "integer", "minimum": 0},
      "run_at": {"type": "string", "format": "date-time"},
      "max_attempts": {"type": "integer", "minimum": 1, "maximum": 1000},
      "backoff": {"type": "object", "additionalProperties": false, "properties": {
        "type": {"type": "string", "enum": ["exponential", "fixed", "none"]},
        "delay_ms": {"type": "integer", "minimum": 0},
        "max_delay_ms": {"type": "integer", "minimum": 0},
        "jitter": {"type": "number", "minimum": 0, "maximum": 1}}},
      "timeout_ms": {"type": "integer", "minimum": 0},
      "expires_at": {"type": "string", "format": "date-time",
        "description": "Not started by then: not run, and dead as expired."},
      "lifo": {"type": "boolean", "default": false,
        "description": "Run before the jobs of its priority already waiting."},
      "callback_url": {"type": "string", "format": "uri", "maxLength": 8192,
        "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
        "description": "Called as a signed webhook when the job completes or goes dead."},
      "retention": {"type": "object", "additionalProperties": false, "properties": {
        "completed": {"$ref": "#/components/schemas/Retention"},
        "dead": {"$ref": "#/components/schemas/Retention"}}},
      "unique": {"oneOf": [{"type": "boolean"}, {"type": "object", "additionalProperties": false,
        "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 256},
        "mode": {"type": "string", "enum": ["until_completed", "ttl", "debounce"]},
        "ttl_ms": {"type": "integer", "minimum": 1, "maximum": 2592000000}}}]}}},
  "BulkRequest": {"type": "object", "required": ["jobs"], "additionalProperties": false,
    "properties": {"jobs": {"type": "array",
    "items": {"$ref": "#/components/schemas/JobRequest"}}}},
  "Links": {"type": "object", "properties": {"self": {"type": "string"},
    "wait": {"type": "string"}}},
  "EnqueueResult": {"type": "object", "required": ["id", "queue", "state", "created"],
    "properties": {"id": {"type": "string"}, "queue": {"type": "string"},
    "state": {"type": "string"}, "created": {"type": "boolean"},
    "unique_hit": {"type": "boolean"},
    "links": {"$ref": "#/components/schemas/Links"}}},
  "BulkResult": {"type": "object", "properties": {"jobs": {"type": "array",
    "items": {"$ref": "#/components/schemas/EnqueueResult"}}}},
  "Job": {"type": "object", "required": ["id", "queue", "type", "state", "data"], "properties": {
    "id": {"type": "string"}, "queue": {"type": "string"}, "type": {"type": "string"},
    "state": {"type": "string",
              "enum": ["waiting", "delayed", "active", "completed", "retrying", "dead",
                       "held"]},
    "data": {"type": "object"}, "priority": {"type": "integer"},
    "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
    "stalls": {"type": "integer"}, "created_ms": {"type": "integer"},
    "started_ms": {"type": "integer"}, "finished_ms": {"type": "integer"},
    "due_ms": {"type": "integer"}, "progress": {}, "result": {}, "options": {"type": "object"},
    "live_handler": {"type": "boolean"},
    "overrunning": {"type": "object", "properties": {"since_ms": {"type": "integer"},
      "timeout_ms": {"type": "integer"}}},
    "schedule": {"type": ["object", "null"], "properties": {"id": {"type": "string"},
      "fire_time_ms": {"type": "integer"}}},
    "flow": {"type": "object", "description": "Its place in a flow; absent for other jobs.",
      "properties": {"id": {"type": "string"}, "ref": {"type": "string"},
      "parent": {"type": ["string", "null"]},
      "on_failure": {"type": "string", "enum": ["fail", "ignore", "continue"]},
      "has_children": {"type": "boolean"},
      "links": {"type": "object", "properties": {"flow": {"type": "string"}}}}},
    "batch": {"type": "object", "description": "Its batch; absent for other jobs.",
      "properties": {"id": {"type": "string"},
      "role": {"type": "string", "enum": ["member", "on_complete", "on_success"]},
      "links": {"type": "object", "properties": {"batch": {"type": "string"}}}}},
    "error": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object", "properties": {
      "attempt": {"type": "integer"}, "at_ms": {"type": "integer"},
      "message": {"type": "string"}}}},
    "logs": {"type": "array", "items": {"type": "string"}},
    "links": {"$ref": "#/components/schemas/Links"}}},
  "JobPage": {"type": "object", "properties": {"queue": {"type": "string"},
    "state": {"type": "string"}, "jobs": {"type": "array",
    "items": {"$ref": "#/components/schemas/Job"}},
    "scanned": {"type": "integer", "description": "with a filter: jobs examined"},
    "next_cursor": {"type": ["string", "null"]}}},
  "JobActionsRequest": {"type": "object", "required": ["action", "ids"],
    "additionalProperties": false, "properties": {
    "action": {"type": "string", "enum": ["retry", "promote", "cancel", "remove"]},
    "ids": {"type": "array", "minItems": 1, "maxItems": 1000,
      "items": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"}}}},
  "JobActionsResult": {"type": "object", "properties": {"queue": {"type": "string"},
    "action": {"type": "string"}, "done": {"type": "array", "items": {"type": "string"}},
    "failed": {"type": "array", "items": {"type": "object", "properties": {
      "id": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}}}},
  "CancelResult": {"type": "object", "properties": {"id": {"type": "string"},
    "queue": {"type": "string"}, "outcome": {"type": "string",
    "enum": ["removed", "stop_requested"]}}},
  "FlowRequest": {"type": "object", "additionalProperties": false,
    "description": "jobs (a tree) or chain (steps run one after the other), not both.",
    "properties": {
      "flow_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
        "description": "The flow's key (default: the Idempotency-Key, else generated)."},
      "retention_ms": {"type": "integer", "minimum": 0, "maximum": 311040000000,
        "description": "How long the flow's record outlives its root's finish (default 7 days)."},
      "jobs": {"type": "array", "minItems": 1,
        "items": {"$ref": "#/components/schemas/FlowJobRequest"}},
      "chain": {"type": "array", "minItems": 1,
        "items": {"$ref": "#/components/schemas/JobRequest"}}}},
  "FlowSubmitResult": {"type": "object", "required": ["id", "queue", "state", "created", "jobs"],
    "properties": {"id": {"type": "string", "description": "<queue>:<flow key>"},
    "queue": {"type": ["string", "null"], "description": "the root's queue, which holds the flow"},
    "state": {"type": ["string", "null"]},
    "created": {"type": "boolean"},
    "jobs": {"type": "array", "items": {"type": "object", "properties": {
      "ref": {"type": "string"}, "id": {"type": "string"}, "queue": {"type": "string"},
      "state": {"type": ["string", "null"]},
      "links": {"type": "object", "properties": {"job": {"type": "string"}}}}}},
    "links": {"type": "object", "properties": {"self": {"type": "string"}}}}},
  "Flow": {"type": "object", "required": ["id", "queue", "state", "jobs"], "properties": {
    "id": {"type": "string"}, "queue": {"type": "string"},
    "state": {"type": "string", "enum": ["running", "completed", "dead"]},
    "created_ms": {"type": "integer"}, "finished_ms": {"type": ["integer", "null"]},
    "jobs": {"type": "array", "items": {"type": "object", "properties": {
      "ref": {"type": "string"}, "id": {"type": "string"},
      "parent": {"type": ["string", "null"]},
      "on_failure": {"type": "string", "enum": ["fail", "ignore", "continue"]},
      "state": {"type": ["string", "null"],
        "description": "null once the job was removed or deleted by its retention."},
      "cancelled": {"type": "boolean"},
      "queue": {"type": "string", "description": "The queue the job runs in."},
      "children": {"type": "object", "description": "A parent's children so far.",
        "properties": {
        "state": {"type": "string", "enum": ["waiting", "released", "failed", "cancelled"]},
        "total": {"type": "integer"}, "pending": {"type": "integer"},
        "completed": {"type": "integer"}, "dead": {"type": "integer"},
        "overridden": {"type": "boolean"}}},
      "links": {"type": "object", "properties": {"job": {"type": "string"}}}}}},
    "links": {"type": "object", "properties": {"self": {"type": "string"}}}}},
  "FlowCancelResult": {"type": "object", "properties": {"id": {"type": "string"},
    "outcome": {"type": "string", "enum": ["cancelled", "stop_requested"]}}},
  "BatchRequest": {"type": "object", "additionalProperties": false,
    "description": "jobs may be left out (or empty) only when open is true.",
    "properties": {
      "batch_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
        "description": "The batch's key (default: the Idempotency-Key, else generated)."},
      "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/BatchJobRequest"}},
      "on_complete": {"$ref": "#/components/schemas/BatchJobRequest"},
      "on_success": {"$ref": "#/components/schemas/BatchJobRequest"},
      "open": {"type": "boolean", "default": false,
        "description": "Takes additions, and holds the callbacks until it is closed."},
      "retention_ms": {"type": "integer", "minimum": 0, "default": 604800000,
        "description": "How long the batch's record outlives its finish."}}},
  "BatchAdditionRequest": {"type": "object", "required": ["jobs"],
    "additionalProperties": false, "properties": {
      "addition_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$",
        "description": "Written once per batch (default: the Idempotency-Key, else generated)."},
      "jobs": {"type": "array", "minItems": 1,
        "items": {"$ref": "#/components/schemas/BatchJobRequest"}}}},
  "JobIdList": {"type": "array", "items": {"type": "object", "required": ["id"],
    "properties": {"id": {"type": "string"}}}},
  "BatchSubmitResult": {"type": "object", "required": ["id", "queue", "state", "created", "jobs"],
    "properties": {"id": {"type": "string", "description": "<queue>:<batch key>"},
    "queue": {"type": "string"}, "state": {"type": ["string", "null"]},
    "created": {"type": "boolean"},
    "jobs": {"$ref": "#/components/schemas/JobIdList"},
    "on_complete": {"type": ["object", "null"], "properties": {"id": {"type": "string"}}},
    "on_success": {"type": ["object", "null"], "properties": {"id": {"type": "string"}}},
    "links": {"type": "object", "properties": {"self": {"type": "string"}}}}},
  "BatchAdditionResult": {"type": "object",
    "required": ["id", "addition_id", "created", "jobs"], "properties": {
    "id": {"type": "string"}, "addition_id": {"type": "string"},
    "created": {"type": "boolean"}, "jobs": {"$ref": "#/components/schemas/JobIdList"},
    "links": {"type": "object", "properties": {"self": {"type": "string"}}}}},
  "BatchCallback": {"type": ["object", "null"], "properties": {"id": {"type": "string"},
    "state": {"type": ["string", "null"],
      "description": "null once the job was removed or deleted by its retention."},
    "cancelled": {"type": "boolean"}}},
  "Batch": {"type": "object", "required": ["id", "queue", "state", "total"], "properties": {
    "id": {"type": "string"}, "queue": {"type": "string"},
    "state": {"type": "string", "enum": ["open", "running", "finished"]},
    "cancelled": {"type": "boolean"}, "total": {"type": "integer"},
    "pending": {"type": "integer"}, "completed": {"type": "integer"},
    "dead": {"type": "integer"}, "created_ms": {"type": "integer"},
    "finished_ms": {"type": ["integer", "null"]},
    "on_complete": {"$ref": "#/components/schemas/BatchCallback"},
    "on_success": {"$ref": "#/components/schemas/BatchCallback"},
    "links": {"type": "object", "properties": {"self": {"type": "string"}}}}},
  "BatchOutcome": {"type": "object", "properties": {"id": {"type": "string"},
    "outcome": {"type": "string", "enum": ["closed", "already_closed", "cancelled"]}}},
  "StateResult": {"type": "object", "properties": {"id": {"type": "string"},
    "queue": {"type": "string"}, "state": {"type": "string"}}},
  "Queue": {"type": "object", "properties": {"name": {"type": "string"},
    "paused": {"type": "boolean"}, "counts": {"type": "object"}, "totals": {"type": "object"},
    "overrunning": {"type": "integer"},
    "per_minute": {"type": ["object", "null"]},
    "mean_wait_ms": {"type": ["number", "null"]},
    "oldest_waiting_age_ms": {"type": ["integer", "null"]},
    "workers": {"type": "integer"},
    "shards": {"type": "integer", "minimum": 1, "maximum": 32,
      "description": "How many shards the queue is spread over (GET .../shards: each one)."},
    "job_types": {"type": "array", "items": {"type": "string"}}}},
  "ShardsRequest": {"type": "object", "required": ["shards"], "additionalProperties": false,
    "properties": {"shards": {"type": "integer", "minimum": 1, "maximum": 32}}},
  "Shards": {"type": "object", "properties": {"queue": {"type": "string"},
    "shards": {"type": "integer"},
    "version": {"type": "integer", "description": "Of the layout; 0: never sharded."},
    "breakdown": {"type": "array", "items": {"type": "object", "properties": {
      "shard": {"type": "integer"}, "tag": {"type": "string"},
      "master": {"type": ["string", "null"], "description":
        "host:port of the Redis Cluster master serving the shard's slot; null off a cluster."},
      "counts": {"type": "object"}, "totals": {"type": "object"}}}}}},
  "ScheduleRequest": {"type": "object", "required": ["cron", "type"],
    "additionalProperties": false, "properties": {
      "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
      "cron": {"type": "string"}, "tz": {"type": "string"},
      "queue": {"type": "string"}, "type": {"type": "string"}, "data": {"type": "object"},
      "options": {"type": "object"}, "start_ms": {"type": "integer"},
      "end_ms": {"type": "integer"}, "max_runs": {"type": "integer", "minimum": 0},
      "missed": {}, "paused": {"type": "boolean"}}},
  "Schedule": {"type": "object", "properties": {"id": {"type": "string"},
    "cron": {"type": "string"}, "tz": {"type": "string"}, "queue": {"type": "string"},
    "type": {"type": "string"}, "data": {"type": "object"}, "options": {"type": "object"},
    "status": {"type": "string", "enum": ["active", "paused", "ended", "unreadable"]},
    "paused": {"type": "boolean"}, "runs": {"type": "integer"},
    "missed_runs": {"type": "integer", "description": "Fire times missed and not caught up."},
    "late_ms": {"type": "integer",
      "description": "How far an active schedule's next fire time is behind now."},
    "next_fire_ms": {"type": ["integer", "null"]}, "last_run": {"type": ["object", "null"]},
    "next_fire_times": {"type": "array", "items": {"type": "integer"}}}},
  "ScheduleList": {"type": "object", "properties": {"schedules": {"type": "array",
    "items": {"$ref": "#/components/schemas/Schedule"}}}},
  "SchedulePauseResult": {"type": "object", "properties": {"id": {"type": "string"},
    "paused": {"type": "boolean"}, "changed": {"type": "boolean"}}},
  "QueueList": {"type": "object", "properties": {"queues": {"type": "array",
    "items": {"$ref": "#/components/schemas/Queue"}}}},
  "PauseResult": {"type": "object", "properties": {"queue": {"type": "string"},
    "paused": {"type": "boolean"}, "changed": {"type": "boolean"}}},
  "PauseAllResult": {"type": "object", "properties": {"paused": {"type": "boolean"},
    "changed": {"type": "integer", "description": "How many queues changed."}}},
  "RetryDeadRequest": {"type": "object", "additionalProperties": false, "properties": {
    "ids": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1000},
    "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}},
  "RetryDeadResult": {"type": "object", "properties": {"queue": {"type": "string"},
    "retried": {"type": "integer"}}},
  "CleanResult": {"type": "object", "properties": {"queue": {"type": "string"},
    "removed": {"type": "integer"}}},
  "Rate": {"type": ["object", "null"], "additionalProperties": false, "required": ["max"],
    "properties": {"max": {"type": "integer", "minimum": 1, "maximum": 1000000000},
      "window_ms": {"type": "integer", "minimum": 1, "maximum": 86400000, "default": 1000}}},
  "Limits": {"type": "object", "properties": {"queue": {"type": "string", "readOnly": true},
    "rate": {"$ref": "#/components/schemas/Rate"},
    "concurrency": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
    "group": {"type": ["object", "null"], "additionalProperties": false, "properties": {
      "rate": {"$ref": "#/components/schemas/Rate"},
      "concurrency": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
      "field": {"type": ["string", "null"], "minLength": 1, "maxLength": 128}}},
    "priority_aging_ms": {"type": ["integer", "null"], "minimum": 1, "maximum": 86400000},
    "max_length": {"type": ["integer", "null"], "minimum": 1, "maximum": 1099511627776}}},
  "HistoryRow": {"type": "object", "properties": {
    "t": {"type": "integer", "description": "The bucket's start, ms since the epoch (Redis' clock)."},
    "processed": {"type": ["integer", "null"]}, "failed": {"type": ["integer", "null"]},
    "enqueued": {"type": ["integer", "null"]}, "dead": {"type": ["integer", "null"]},
    "waiting": {"type": "integer"}}},
  "History": {"type": "object", "properties": {"queue": {"type": "string"},
    "minutes": {"type": "array", "items": {"$ref": "#/components/schemas/HistoryRow"}},
    "now_ms": {"type": "integer"}}},
  "Alert": {"type": "object", "properties": {
    "name": {"type": "string", "enum": ["TaskqDeadLetterGrowing", "TaskqQueueWithoutWorkers",
      "TaskqOldestWaitingTooOld", "TaskqScheduleStuck", "TaskqShardsShareMaster"]},
    "severity": {"type": "string", "enum": ["warning", "critical"]},
    "queue": {"type": ["string", "null"]}, "schedule": {"type": ["string", "null"]},
    "summary": {"type": "string"}, "value": {"type": "number"}}},
  "AlertList": {"type": "object", "properties": {"alerts": {"type": "array",
    "items": {"$ref": "#/components/schemas/Alert"}}, "now_ms": {"type": "integer"}}},
  "Health": {"type": "object", "properties": {"status": {"type": "string"}}},
  "Worker": {"type": "object", "properties": {"id": {"type": "string"},
    "host": {"type": "string"}, "pid": {"type": "integer"},
    "queues": {"type": "array", "items": {"type": "object", "properties": {
      "queue": {"type": "string"}, "concurrency": {"type": "integer"},
      "running": {"type": "integer"}}}},
    "job_types": {"type": "array", "items": {"type": "string"}},
    "started_ms": {"type": "integer"}, "completed": {"type": "integer"},
    "failed": {"type": "integer"}, "running": {"type": "integer"},
    "heartbeat_ms": {"type": "integer"}, "heartbeat_age_ms": {"type": "integer"}}},
  "WorkerList": {"type": "object", "properties": {"workers": {"type": "array",
    "items": {"$ref": "#/components/schemas/Worker"}}}}
})";

// kSchemas, plus FlowJobRequest and BatchJobRequest: a job of POST /api/jobs (the same fields and
// rules, so they cannot drift apart) without what a flow or a batch names itself, and for a flow
// with its place in the tree.
json::value Schemas() {
  json::value schemas = json::parse(kSchemas);
  json::object flow_job = schemas.at("JobRequest").as_object();
  flow_job["description"] = "A job of a flow: the fields of a job, and its place in the tree.";
  json::object& properties = flow_job["properties"].as_object();
  properties.erase("job_id");
  properties.erase("unique");
  properties["ref"] = {{"type", "string"},
                       {"pattern", "^[A-Za-z0-9_-]{1,32}$"},
                       {"description", "The job's name in the flow; its id is <flow key>.<ref>."}};
  properties["parent"] = {{"type", "string"},
                          {"pattern", "^[A-Za-z0-9_-]{1,32}$"},
                          {"description", "The parent's ref; left out for the root."}};
  properties["on_failure"] = {{"type", "string"},
                              {"enum", {"fail", "ignore", "continue"}},
                              {"default", "fail"},
                              {"description", "What this job's death does to its parent."}};
  flow_job["required"] = {"type", "ref"};
  schemas.as_object()["FlowJobRequest"] = std::move(flow_job);
  json::object batch_job = schemas.at("JobRequest").as_object();
  batch_job["description"] = "A job of a batch: the fields of a job, but the id it names itself.";
  batch_job["properties"].as_object().erase("job_id");
  batch_job["properties"].as_object().erase("unique");
  schemas.as_object()["BatchJobRequest"] = std::move(batch_job);
  return schemas;
}

json::object SchemaRef(const std::string& name) {
  return {{"$ref", "#/components/schemas/" + name}};
}

const char* Describe(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 400:
      return "Malformed JSON";
    case 401:
      return "Missing or unknown API key";
    case 403:
      return "The API key's scope does not allow this";
    case 404:
      return "Not found";
    case 409:
      return "Conflict with the job's or queue's state";
    case 413:
      return "Body or batch too large";
    case 429:
      return "The queue is full (its max_length); retry after Retry-After seconds";
    case 431:
      return "Request headers too large (--max-header-bytes)";
    case 415:
      return "The body is not sent as JSON (Content-Type)";
    case 422:
      return "A field breaks a rule";
    case 503:
      return "Redis unavailable";
    default:
      return "See the error body";
  }
}

}  // namespace

// The operationId of each route, as SDK generators name methods after it (createJob, listQueues).
// A route missing here is named from its method and path, and the API test fails on it.
constexpr std::pair<std::string_view, std::string_view> kOperationIds[] = {
    {"POST /api/jobs", "createJob"},
    {"POST /api/pause", "pauseAllQueues"},
    {"POST /api/resume", "resumeAllQueues"},
    {"POST /api/jobs/bulk", "createJobs"},
    {"GET /api/jobs/{id}", "getJob"},
    {"DELETE /api/jobs/{id}", "cancelJob"},
    {"POST /api/jobs/{id}/retry", "retryJob"},
    {"POST /api/jobs/{id}/promote", "promoteJob"},
    {"POST /api/jobs/{id}/remove", "removeJob"},
    {"GET /api/jobs/{id}/wait", "waitForJob"},
    {"POST /api/flows", "createFlow"},
    {"GET /api/flows/{id}", "getFlow"},
    {"DELETE /api/flows/{id}", "cancelFlow"},
    {"POST /api/batches", "createBatch"},
    {"POST /api/batches/{id}/jobs", "addBatchJobs"},
    {"POST /api/batches/{id}/close", "closeBatch"},
    {"GET /api/batches/{id}", "getBatch"},
    {"DELETE /api/batches/{id}", "cancelBatch"},
    {"GET /api/queues", "listQueues"},
    {"GET /api/queues/{queue}", "getQueue"},
    {"GET /api/queues/{queue}/jobs", "listQueueJobs"},
    {"POST /api/queues/{queue}/jobs/actions", "actOnQueueJobs"},
    {"DELETE /api/queues/{queue}/jobs", "cleanQueue"},
    {"POST /api/queues/{queue}/pause", "pauseQueue"},
    {"POST /api/queues/{queue}/resume", "resumeQueue"},
    {"POST /api/queues/{queue}/dead/retry", "retryDeadJobs"},
    {"GET /api/queues/{queue}/limits", "getQueueLimits"},
    {"PUT /api/queues/{queue}/limits", "setQueueLimits"},
    {"GET /api/queues/{queue}/shards", "getQueueShards"},
    {"PUT /api/queues/{queue}/shards", "setQueueShards"},
    {"GET /api/queues/{queue}/history", "getQueueHistory"},
    {"GET /api/history", "getHistory"},
    {"GET /api/alerts", "listAlerts"},
    {"GET /api/schedules", "listSchedules"},
    {"POST /api/schedules", "createSchedule"},
    {"GET /api/schedules/{id}", "getSchedule"},
    {"PUT /api/schedules/{id}", "putSchedule"},
    {"DELETE /api/schedules/{id}", "deleteSchedule"},
    {"POST /api/schedules/{id}/pause", "pauseSchedule"},
    {"POST /api/schedules/{id}/resume", "resumeSchedule"},
    {"POST /api/schedules/{id}/run", "runSchedule"},
    {"GET /api/workers", "listWorkers"},
    {"GET /healthz", "getHealth"},
    {"GET /readyz", "getReadiness"},
    {"GET /metrics", "getMetrics"},
    {"GET /api/openapi.json", "getOpenApiDocument"},
};

std::string OperationId(const Route& route) {
  const std::string key = route.method + " " + route.pattern;
  for (const auto& [route_key, id] : kOperationIds) {
    if (route_key == key) return std::string(id);
  }
  return key;  // not a valid identifier: the API test names the route to add
}

// The tag that groups a route in generated SDKs and documentation.
std::string TagOf(const Route& route) {
  if (route.pattern == "/api/history") return "queues";
  for (const char* tag : {"jobs", "flows", "batches", "queues", "schedules", "workers"}) {
    if (route.pattern.starts_with(std::string("/api/") + tag)) return tag;
  }
  return "system";
}

std::string OpenApiDocument(const Router& router) {
  json::object paths;
  for (const Route& route : router.routes()) {
    json::object op;
    op["summary"] = route.doc.summary;
    op["operationId"] = OperationId(route);
    op["tags"] = json::array{json::value(TagOf(route))};
    json::array parameters;
    for (const std::string& segment : route.segments) {
      if (segment.size() > 2 && segment.front() == '{') {
        parameters.push_back({{"name", segment.substr(1, segment.size() - 2)},
                              {"in", "path"},
                              {"required", true},
                              {"schema", {{"type", "string"}}}});
      }
    }
    for (const std::string& q : route.doc.query) {  // "name:type:description"
      const size_t a = q.find(':'), b = q.find(':', a + 1);
      parameters.push_back({{"name", q.substr(0, a)},
                            {"in", "query"},
                            {"required", q.find("(required)") != std::string::npos},
                            {"schema", {{"type", q.substr(a + 1, b - a - 1)}}},
                            {"description", q.substr(b + 1)}});
    }
    if (route.method == "POST" && route.pattern == "/api/jobs") {
      parameters.push_back(
          {{"name", "Idempotency-Key"},
           {"in", "header"},
           {"required", false},
           {"schema", {{"type", "string"}}},
           {"description",
            "a job id: a retry with the same key and body answers 200 with the job it made; "
            "the same key with another body is 422"}});
    }
    if (route.method == "POST" && route.pattern == "/api/flows") {
      parameters.push_back(
          {{"name", "Idempotency-Key"},
           {"in", "header"},
           {"required", false},
           {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-]{1,64}$"}}},
           {"description",
            "the flow's key when the body names none: a retry with the same key answers 200 "
            "with the flow it made; the same key with another tree is 422"}});
    }
    if (route.method == "POST" && route.pattern.starts_with("/api/batches") &&
        !route.pattern.ends_with("/close")) {
      const bool addition = route.pattern.ends_with("/jobs");
      parameters.push_back(
          {{"name", "Idempotency-Key"},
           {"in", "header"},
           {"required", false},
           {"schema",
            {{"type", "string"},
             {"pattern", addition ? "^[A-Za-z0-9_-]{1,32}$" : "^[A-Za-z0-9_-]{1,64}$"}}},
           {"description", addition ? "the addition's id when the body names none: a retry with "
                                      "the same key answers 200 and adds nothing"
                                    : "the batch's key when the body names none: a retry with "
                                      "the same key answers 200 with the batch it made"}});
    }
    if (!parameters.empty()) op["parameters"] = std::move(parameters);
    if (!route.doc.request_schema.empty()) {
      op["requestBody"] = {
          {"required", route.doc.request_schema != "RetryDeadRequest"},
          {"content", {{"application/json", {{"schema", SchemaRef(route.doc.request_schema)}}}}}};
    }
    json::object responses;
    // Besides what the route says: the key checks of a scoped route (with keys configured), and
    // the server's refusal of an oversized header block, which any request can meet.
    std::vector<int> statuses = route.doc.statuses;
    if (route.scope != Scope::kNone) statuses.insert(statuses.end(), {401, 403});
    statuses.push_back(431);
    std::sort(statuses.begin(), statuses.end());
    statuses.erase(std::unique(statuses.begin(), statuses.end()), statuses.end());
    for (int status : statuses) {
      json::object response{{"description", Describe(status)}};
      const std::string schema = status < 300 ? route.doc.response_schema : std::string("Error");
      if (!schema.empty()) {
        const char* media = status < 300 ? "application/json" : "application/problem+json";
        response["content"] = {{media, {{"schema", SchemaRef(schema)}}}};
      } else if (route.pattern == "/metrics") {
        response["content"] = {{"text/plain", {{"schema", {{"type", "string"}}}}}};
      } else if (route.pattern == "/api/openapi.json") {
        response["content"] = {{"application/json", {{"schema", {{"type", "object"}}}}}};
      }
      responses[std::to_string(status)] = std::move(response);
    }
    responses["default"] = {
        {"description", "Another error (503 while Redis is unavailable, ...)"},
        {"content", {{"application/problem+json", {{"schema", SchemaRef("Error")}}}}}};
    op["responses"] = std::move(responses);
    if (route.scope != Scope::kNone) {
      op["security"] = json::array{json::object{{"bearer", json::array{}}}};
      op["x-taskq-scope"] = ScopeName(route.scope);
    } else {
      op["security"] = json::array{};  // open to anyone, API keys or not
    }
    std::string method = route.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& item = paths[route.pattern];
    if (!item.is_object()) item = json::object();
    item.as_object()[method] = std::move(op);
  }
  json::object doc{
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "taskq"},
        {"version", TASKQ_VERSION},
        {"description", "A distributed task queue on Redis. See docs/http-api.md."}}},
      {"servers",
       json::array{json::object{{"url", "/"},
                                {"description", "the API listener that serves this document"}}}},
      {"tags",
       json::array{
           json::object{{"name", "jobs"}, {"description", "enqueue and act on jobs"}},
           json::object{{"name", "flows"},
                        {"description", "trees of jobs, parents run after their children"}},
           json::object{{"name", "batches"},
                        {"description", "independent jobs in one queue, with callbacks"}},
           json::object{{"name", "queues"},
                        {"description", "queues: counts, listings, actions, limits"}},
           json::object{{"name", "schedules"}, {"description", "cron schedules"}},
           json::object{{"name", "workers"}, {"description", "live workers"}},
           json::object{{"name", "system"}, {"description", "health, metrics, this document"}}}},
      {"security", json::array{json::object{{"bearer", json::array{}}}}},
      {"paths", std::move(paths)},
      {"components",
       {{"schemas", Schemas()},
        {"securitySchemes",
         {{"bearer",
           {{"type", "http"},
            {"scheme", "bearer"},
            {"description",
             "an API key (--api-key SCOPE:TOKEN) as Authorization: Bearer TOKEN; "
             "without configured keys the API takes none"}}}}}}}};
  return json::serialize(doc);
}

}  // namespace taskq::api
