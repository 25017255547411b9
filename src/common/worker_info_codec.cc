#include "common/worker_info_codec.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace taskq {
namespace {

namespace json = boost::json;

json::object ToJson(const WorkerInfo& info) {
  json::array queues;
  for (const WorkerQueueInfo& q : info.queues) {
    json::object queue{{"queue", q.queue},
                       {"concurrency", q.concurrency},
                       {"running", q.running},
                       {"isolation", q.isolated ? "process" : "thread"}};
    if (q.isolated) queue["processes"] = q.processes;
    queues.push_back(std::move(queue));
  }
  json::array types;
  for (const std::string& t : info.job_types) types.push_back(json::string(t));
  return {{"id", info.id},
          {"host", info.host},
          {"pid", info.pid},
          {"queues", std::move(queues)},
          {"job_types", std::move(types)},
          {"started_ms", info.started_ms},
          {"completed", info.completed},
          {"failed", info.failed}};
}

int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<int64_t>() : 0;
}

std::string String(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::string EncodeWorkerInfo(const WorkerInfo& info) { return json::serialize(ToJson(info)); }

Result<WorkerInfo> DecodeWorkerInfo(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Internal("a worker description is not a JSON object");
  const json::object& o = v.get_object();
  WorkerInfo info;
  info.id = String(o, "id");
  info.host = String(o, "host");
  info.pid = Int(o, "pid");
  info.started_ms = Int(o, "started_ms");
  info.completed = Int(o, "completed");
  info.failed = Int(o, "failed");
  info.heartbeat_ms = Int(o, "hb");
  if (const json::value* qs = o.if_contains("queues"); qs && qs->is_array()) {
    for (const json::value& q : qs->get_array()) {
      if (!q.is_object()) continue;
      const json::object& fields = q.get_object();
      info.queues.push_back(
          {String(fields, "queue"), static_cast<int32_t>(Int(fields, "concurrency")),
           static_cast<int32_t>(Int(fields, "running")), String(fields, "isolation") == "process",
           static_cast<int32_t>(Int(fields, "processes"))});
    }
  }
  if (const json::value* ts = o.if_contains("job_types"); ts && ts->is_array()) {
    for (const json::value& t : ts->get_array()) {
      if (t.is_string()) info.job_types.emplace_back(t.get_string());
    }
  }
  return info;
}

std::string WorkerInfoJson(const WorkerInfo& info, int64_t now_ms) {
  json::object o = ToJson(info);
  o["heartbeat_ms"] = info.heartbeat_ms;
  o["heartbeat_age_ms"] = std::max<int64_t>(0, now_ms - info.heartbeat_ms);
  int64_t running = 0;
  for (const WorkerQueueInfo& q : info.queues) running += q.running;
  o["running"] = running;
  return json::serialize(o);
}

}  // namespace taskq
