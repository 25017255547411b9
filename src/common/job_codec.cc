#include "common/job_codec.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "common/callback_url.h"
#include "common/json_span.h"
#include "common/trace_parent.h"
#include "common/unique_key.h"

namespace taskq {
namespace json = boost::json;
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

json::object EncodeRetention(const Retention& r) {
  return {{"count", r.count}, {"age_ms", r.age.count()}};
}

// A JSON syntax check that builds nothing; records whether the top-level value is an object.
struct ValidatingHandler {
  using ec_t = boost::system::error_code;
  using sv = json::string_view;
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  int depth = 0;
  bool top_is_object = false;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) {
    if (depth++ == 0) top_is_object = true;
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) { return --depth, true; }
  bool on_array_begin(ec_t&) { return ++depth, true; }
  bool on_array_end(std::size_t, ec_t&) { return --depth, true; }
  bool on_key_part(sv, std::size_t, ec_t&) { return true; }
  bool on_key(sv, std::size_t, ec_t&) { return true; }
  bool on_string_part(sv, std::size_t, ec_t&) { return true; }
  bool on_string(sv, std::size_t, ec_t&) { return true; }
  bool on_number_part(sv, ec_t&) { return true; }
  bool on_int64(std::int64_t, sv, ec_t&) { return true; }
  bool on_uint64(std::uint64_t, sv, ec_t&) { return true; }
  bool on_double(double, sv, ec_t&) { return true; }
  bool on_bool(bool, ec_t&) { return true; }
  bool on_null(ec_t&) { return true; }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

int64_t GetInt(const json::object& o, std::string_view key, int64_t fallback) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return fallback;
}

Retention DecodeRetention(const json::value* v, Retention fallback) {
  if (v == nullptr || !v->is_object()) return fallback;
  const json::object& o = v->as_object();
  return Retention{GetInt(o, "count", fallback.count),
                   std::chrono::milliseconds(GetInt(o, "age_ms", fallback.age.count()))};
}

}  // namespace

Status ValidateName(std::string_view field, std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument(std::string(field), "must be 1 to 64 characters long");
  }
  if (name[0] == '.' || name[0] == '-' || name[0] == '_') {
    return InvalidArgument(std::string(field), "must start with a letter or a digit");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return InvalidArgument(std::string(field),
                             "may contain only letters, digits, '_', '.' and '-'");
    }
  }
  return Status::Ok();
}

Status ValidateJobId(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return InvalidArgument("job_id", "must be 1 to 128 characters long");
  }
  for (char c : id) {
    if (!IsNameChar(c) && c != ':') {
      return InvalidArgument("job_id", "may contain only letters, digits, '_', '.', ':' and '-'");
    }
  }
  return Status::Ok();
}

namespace {

// An empty key is valid here: the client derives it from the job (DeriveUniqueKey).
Status ValidateUnique(const UniqueOptions& u) {
  if (u.key.size() > kMaxUniqueKeyBytes) {
    return InvalidArgument("unique.key", "must be 1 to 256 bytes long");
  }
  for (unsigned char c : u.key) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument("unique.key", "must not contain control characters");
    }
  }
  if (u.mode == UniqueOptions::Mode::kTtl) {
    if (u.ttl.count() < 1 || u.ttl > kMaxUniqueTtl) {
      return InvalidArgument("unique.ttl_ms",
                             "is required with mode ttl: 1 to 2592000000 (30 days)");
    }
  } else if (u.ttl.count() != 0) {
    return InvalidArgument("unique.ttl_ms", "applies to mode ttl only");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateOptions(const EnqueueOptions& o) {
  if (o.priority < kMinPriority || o.priority > kMaxPriority) {
    return InvalidArgument("priority", "must be an integer in [-1000000, 1000000]");
  }
  if (o.delay.count() < 0 || o.delay > std::chrono::hours(24 * 366 * 10)) {
    return InvalidArgument("delay_ms", "must be between 0 and 10 years");
  }
  // Upper bounds keep every due time and deadline far from overflowing a clock.
  constexpr int64_t kYear2200Ms = 7258118400000;
  if (o.run_at_ms && (*o.run_at_ms < 0 || *o.run_at_ms > kYear2200Ms)) {
    return InvalidArgument("run_at", "must be between 1970 and 2200");
  }
  if (o.expires_at_ms) {
    if (*o.expires_at_ms < 0 || *o.expires_at_ms > kYear2200Ms) {
      return InvalidArgument("expires_at", "must be between 1970 and 2200");
    }
    if (o.run_at_ms && *o.expires_at_ms <= *o.run_at_ms) {
      return InvalidArgument("expires_at", "must be after run_at");
    }
  }
  if (o.max_attempts < 1 || o.max_attempts > kMaxAttemptsLimit) {
    return InvalidArgument("max_attempts", "must be in [1, 1000]");
  }
  if (o.backoff.delay.count() < 0 || o.backoff.max_delay < o.backoff.delay ||
      o.backoff.max_delay > std::chrono::hours(24 * 30)) {
    return InvalidArgument("backoff",
                           "delay_ms and max_delay_ms must be >= 0, delay <= max, max <= 30 days");
  }
  if (!(o.backoff.jitter >= 0.0 && o.backoff.jitter <= 1.0)) {
    return InvalidArgument("backoff.jitter", "must be in [0, 1]");
  }
  if (o.timeout.count() < 0 || o.timeout > std::chrono::hours(24 * 7)) {
    return InvalidArgument("timeout_ms", "must be between 0 and 7 days");
  }
  if (o.keep_completed.count < -1 || o.keep_dead.count < -1) {
    return InvalidArgument("retention", "count must be >= 0, or -1 for no limit");
  }
  if (o.group.size() > kMaxGroupBytes || std::any_of(o.group.begin(), o.group.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '|';
      })) {
    return InvalidArgument("group", "must be at most 128 bytes, without control characters or |");
  }
  if (!o.schedule_id.empty()) {
    TASKQ_RETURN_IF_ERROR(ValidateName("schedule_id", o.schedule_id));
    if (o.schedule_fire_ms < 0) return InvalidArgument("schedule_fire_ms", "must be >= 0");
  }
  if (o.unique) TASKQ_RETURN_IF_ERROR(ValidateUnique(*o.unique));
  if (!o.trace_parent.empty()) TASKQ_RETURN_IF_ERROR(CheckTraceParent(o.trace_parent));
  if (!o.callback_url.empty()) {
    TASKQ_RETURN_IF_ERROR(CheckCallbackUrl("callback_url", o.callback_url));
  }
  if (!o.job_id.empty()) TASKQ_RETURN_IF_ERROR(ValidateJobId(o.job_id));
  if (!o.queue.empty()) TASKQ_RETURN_IF_ERROR(ValidateName("queue", o.queue));
  return Status::Ok();
}

Result<std::string> EncodeJobBody(std::string_view type, std::string_view data_json,
                                  const EnqueueOptions& options, const JobLimits& limits) {
  TASKQ_RETURN_IF_ERROR(ValidateName("type", type));
  TASKQ_RETURN_IF_ERROR(ValidateOptions(options));
  if (data_json.size() > limits.max_data_bytes) {
    return Status(StatusCode::kResourceExhausted,
                  "is " + std::to_string(data_json.size()) + " bytes; the limit is " +
                      std::to_string(limits.max_data_bytes),
                  "data");
  }
  json::parse_options parse_options;
  parse_options.max_depth = static_cast<size_t>(limits.max_json_depth);
  // Validated without building a document: the producer's text is stored as it is.
  json::basic_parser<ValidatingHandler> parser(parse_options);
  boost::system::error_code ec;
  const std::size_t used = parser.write_some(false, data_json.data(), data_json.size(), ec);
  if (!ec && !parser.done()) ec = json::error::incomplete;
  if (!ec && data_json.find_first_not_of(" \t\r\n", used) != std::string_view::npos) {
    ec = json::error::extra_data;
  }
  if (ec) return InvalidArgument("data", "is not valid JSON: " + ec.message());
  if (!parser.handler().top_is_object) {
    return InvalidArgument("data", "must be a JSON object");
  }

  const EnqueueOptions defaults;
  json::object o;
  if (options.priority != 0) o["priority"] = options.priority;
  if (options.max_attempts != defaults.max_attempts) o["max_attempts"] = options.max_attempts;
  const BackoffPolicy& b = options.backoff;
  if (b.type != defaults.backoff.type || b.delay != defaults.backoff.delay ||
      b.max_delay != defaults.backoff.max_delay || b.jitter != defaults.backoff.jitter) {
    o["backoff"] = {{"type", BackoffTypeName(b.type)},
                    {"delay_ms", b.delay.count()},
                    {"max_delay_ms", b.max_delay.count()},
                    {"jitter", b.jitter}};
  }
  if (options.timeout.count() != 0) o["timeout_ms"] = options.timeout.count();
  if (options.keep_completed != defaults.keep_completed) {
    o["keep_completed"] = EncodeRetention(options.keep_completed);
  }
  if (options.keep_dead != defaults.keep_dead) {
    o["keep_dead"] = EncodeRetention(options.keep_dead);
  }
  if (!options.schedule_id.empty()) {
    o["schedule"] = {{"id", options.schedule_id}, {"fire_ms", options.schedule_fire_ms}};
  }
  if (!options.trace_parent.empty()) o["traceparent"] = options.trace_parent;
  if (!options.callback_url.empty()) o["cb"] = options.callback_url;
  if (options.lifo) o["lifo"] = true;
  if (options.flow) {
    json::object& f = o["flow"].emplace_object();
    f["id"] = options.flow->flow_id;
    f["ref"] = options.flow->ref;
    if (!options.flow->parent.empty()) f["parent"] = options.flow->parent;
    if (options.flow->on_failure != ChildFailurePolicy::kFail) {
      f["on_failure"] = ChildFailurePolicyName(options.flow->on_failure);
    }
    if (options.flow->has_children) f["kids"] = true;
    if (options.flow->batch) f["batch"] = true;
    if (options.flow->across_queues) f["xq"] = true;
  }
  if (options.expires_at_ms) o["expires_at_ms"] = *options.expires_at_ms;
  if (options.unique) {
    json::object& u = o["unique"].emplace_object();
    u["key"] = options.unique->key;
    const std::string_view mode = UniqueModeName(options.unique->mode);
    u["mode"] = json::string_view(mode.data(), mode.size());
    if (options.unique->ttl.count() != 0) u["ttl_ms"] = options.unique->ttl.count();
  }

  // The data is copied as the producer sent it (already checked to be one JSON object), so a
  // large payload is not re-serialised.
  std::string body;
  body.reserve(data_json.size() + type.size() + 16);
  body += '{';
  const std::string_view queue = options.queue.empty() ? type : options.queue;
  if (type != queue) {
    body += "\"t\":";
    body += json::serialize(json::string_view(type.data(), type.size()));
    body += ',';
  }
  body += "\"d\":";
  body += data_json;
  if (!o.empty()) {
    body += ",\"o\":";
    body += json::serialize(o);
  }
  body += '}';
  return body;
}

Result<DecodedBody> DecodeJobBody(std::string_view body, std::string_view queue) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Internal("job body is not a JSON object");
  const json::object& root = v.as_object();
  DecodedBody out;
  out.created_ms = GetInt(root, "c", 0);
  const json::value* type = root.if_contains("t");
  const json::value* data = root.if_contains("d");
  if ((type != nullptr && !type->is_string()) || data == nullptr || !data->is_object()) {
    return Internal("job body has a bad type or lacks its data");
  }
  out.type = type != nullptr ? std::string(type->as_string()) : std::string(queue);
  // As stored: the producer's text (a re-serialised number is not the same text).
  const std::optional<std::string_view> data_text = JsonMemberText(body, "d");
  out.data_json = data_text ? std::string(*data_text) : json::serialize(*data);
  if (const json::value* ov = root.if_contains("o"); ov != nullptr && ov->is_object()) {
    const json::object& o = ov->as_object();
    EnqueueOptions& opt = out.options;
    opt.priority = static_cast<int32_t>(GetInt(o, "priority", 0));
    opt.max_attempts = static_cast<int32_t>(GetInt(o, "max_attempts", opt.max_attempts));
    opt.timeout = std::chrono::milliseconds(GetInt(o, "timeout_ms", 0));
    if (const json::value* bv = o.if_contains("backoff"); bv != nullptr && bv->is_object()) {
      const json::object& bo = bv->as_object();
      const json::value* bt = bo.if_contains("type");
      if (bt != nullptr && bt->is_string()) {
        if (bt->as_string() == "fixed") opt.backoff.type = BackoffType::kFixed;
        if (bt->as_string() == "none") opt.backoff.type = BackoffType::kNone;
      }
      opt.backoff.delay = std::chrono::milliseconds(GetInt(bo, "delay_ms", 1000));
      opt.backoff.max_delay = std::chrono::milliseconds(GetInt(bo, "max_delay_ms", 3600000));
      if (const json::value* j = bo.if_contains("jitter"); j != nullptr && j->is_number()) {
        opt.backoff.jitter = j->to_number<double>();
      }
    }
    opt.keep_completed = DecodeRetention(o.if_contains("keep_completed"), opt.keep_completed);
    opt.keep_dead = DecodeRetention(o.if_contains("keep_dead"), opt.keep_dead);
    if (const json::value* tp = o.if_contains("traceparent"); tp != nullptr && tp->is_string()) {
      opt.trace_parent = std::string(tp->as_string());
    }
    if (const json::value* e = o.if_contains("expires_at_ms"); e != nullptr && e->is_int64()) {
      opt.expires_at_ms = e->as_int64();
    }
    if (const json::value* lifo = o.if_contains("lifo"); lifo != nullptr && lifo->is_bool()) {
      opt.lifo = lifo->as_bool();
    }
    if (const json::value* fv = o.if_contains("flow"); fv != nullptr && fv->is_object()) {
      const json::object& fo = fv->as_object();
      FlowPlace& place = opt.flow.emplace();
      auto text = [&](const char* name) {
        const json::value* v = fo.if_contains(name);
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
      };
      place.flow_id = text("id");
      place.ref = text("ref");
      place.parent = text("parent");
      place.on_failure = ParseChildFailurePolicy(text("on_failure")).value_or(place.on_failure);
      const json::value* kids = fo.if_contains("kids");
      place.has_children = kids != nullptr && kids->is_bool() && kids->as_bool();
      const json::value* batch = fo.if_contains("batch");
      place.batch = batch != nullptr && batch->is_bool() && batch->as_bool();
      const json::value* xq = fo.if_contains("xq");
      place.across_queues = xq != nullptr && xq->is_bool() && xq->as_bool();
    }
    if (const json::value* cb = o.if_contains("cb"); cb != nullptr && cb->is_string()) {
      opt.callback_url = std::string(cb->as_string());
    }
    if (const json::value* sv = o.if_contains("schedule"); sv != nullptr && sv->is_object()) {
      const json::value* id = sv->as_object().if_contains("id");
      if (id != nullptr && id->is_string()) {
        opt.schedule_id = std::string(id->as_string());
        opt.schedule_fire_ms = GetInt(sv->as_object(), "fire_ms", 0);
      }
    }
    if (const json::value* uv = o.if_contains("unique"); uv != nullptr && uv->is_object()) {
      const json::object& uo = uv->as_object();
      UniqueOptions& unique = opt.unique.emplace();
      if (const json::value* key = uo.if_contains("key"); key != nullptr && key->is_string()) {
        unique.key = std::string(key->as_string());
      }
      if (const json::value* mode = uo.if_contains("mode"); mode != nullptr && mode->is_string()) {
        const json::string& name = mode->as_string();
        unique.mode = ParseUniqueMode({name.data(), name.size()}).value_or(unique.mode);
      }
      unique.ttl = std::chrono::milliseconds(GetInt(uo, "ttl_ms", 0));
    }
  }
  return out;
}

}  // namespace taskq
