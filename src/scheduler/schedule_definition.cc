#include "scheduler/schedule_definition.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/field_errors.h"
#include "common/job_codec.h"
#include "common/json_fields.h"

namespace taskq::scheduler {
namespace {

namespace json = boost::json;

constexpr int64_t kYear2200Ms = 7258118400000;

Status ReadMissed(const json::value& v, int32_t* catch_up) {
  if (v.is_string() && v.get_string() == "skip") {
    *catch_up = 0;
    return Status::Ok();
  }
  const json::object* o = v.if_object();
  if (o == nullptr || o->size() != 1 || !o->contains("catch_up")) {
    return InvalidArgument("missed", "must be \"skip\" or {\"catch_up\": N}");
  }
  int64_t n;
  TASKQ_RETURN_IF_ERROR(ReadInteger(o->at("catch_up"), "missed.catch_up", 1, kMaxCatchUp, &n));
  *catch_up = static_cast<int32_t>(n);
  return Status::Ok();
}

// Names every invalid option.
Status ReadOptions(const json::value& v, EnqueueOptions* out) {
  if (!v.is_object()) return InvalidArgument("options", "must be a JSON object");
  FieldErrors errors;
  for (const auto& [key, value] : v.get_object()) {
    const std::string field = "options." + std::string(key);
    Status s;
    if (!ReadJobOption(key, value, field, out, &s)) {
      s = InvalidArgument(field,
                          "unknown field; expected priority, group, max_attempts, backoff, "
                          "timeout_ms or retention");
    }
    errors.Check(s);
  }
  return std::move(errors).ToStatus();
}

json::object EncodeRetention(const Retention& r) {
  return {{"count", r.count}, {"age_ms", r.age.count()}};
}

}  // namespace

EnqueueRequest ScheduleDefinition::JobTemplate() const {
  EnqueueRequest request{type, data_json, options};
  request.options.queue = queue;
  return request;
}

Status ValidateScheduleDefinition(const ScheduleDefinition& d) {
  // Every invalid field is named, not only the first (docs/http-api.md, "Errors").
  FieldErrors errors;
  errors.Check(ValidateName("id", d.id));
  if (d.cron.empty()) {
    errors.Add(InvalidArgument("cron", "is required"));
  } else if (auto cron = schedule::CronExpression::Parse(d.cron); !cron.ok()) {
    errors.Add(InvalidArgument("cron", cron.status().message()));
  }
  if (auto zone = schedule::FindZone(d.tz); !zone.ok()) {
    errors.Add(InvalidArgument("tz", zone.status().message()));
  }
  if (d.type.empty()) errors.Add(InvalidArgument("type", "is required"));
  bool times_valid = true;
  for (const auto& [name, value] : {std::pair{"start_ms", d.start_ms}, {"end_ms", d.end_ms}}) {
    if (value && (*value < 0 || *value > kYear2200Ms)) {
      errors.Add(InvalidArgument(name, "must be a Unix time in ms between 1970 and 2200"));
      times_valid = false;
    }
  }
  if (times_valid && d.start_ms && d.end_ms && *d.end_ms < *d.start_ms) {
    errors.Add(InvalidArgument("end_ms", "must not be before start_ms"));
  }
  if (d.max_runs < 0) errors.Add(InvalidArgument("max_runs", "must be >= 0 (0: no limit)"));
  if (d.catch_up < 0 || d.catch_up > kMaxCatchUp) {
    errors.Add(InvalidArgument("missed.catch_up", "must be in [1, 1000]"));
  }
  // The template is checked as a job now, so that a bad one fails here and not at every fire.
  // EncodeJobBody stops at its first error (the type's name before the options).
  EnqueueRequest job = d.JobTemplate();
  if (job.options.delay.count() != 0 || job.options.run_at_ms || !job.options.job_id.empty()) {
    errors.Add(InvalidArgument("options", "a schedule's job has no delay, run_at or job_id"));
  } else if (auto body = EncodeJobBody(job.type, job.data_json, job.options, JobLimits{});
             !body.ok()) {
    const Status& s = body.status();
    const std::string& f = s.field();
    const bool top = f == "type" || f == "queue" || f == "data" || f.empty();
    errors.Check(Status(s.code(), s.message(), top ? f : "options." + f));
  }
  return std::move(errors).ToStatus();
}

Result<ScheduleDefinition> ParseScheduleDefinition(std::string_view text, std::string_view path_id,
                                                   const JobCheck& check_job) {
  json::parse_options parse_options;
  parse_options.max_depth = 32;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, parse_options);
  if (ec) {
    return Status(StatusCode::kInvalidArgument, "the body is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) return InvalidArgument("(body)", "must be a JSON object");
  ScheduleDefinition d;
  d.id = std::string(path_id);
  // Every invalid field is named, not only the first (docs/http-api.md, "Errors").
  FieldErrors errors;
  bool data_read = true;
  for (const auto& [key, value] : v.get_object()) {
    const std::string field(key);
    int64_t n = 0;
    Status s;
    if (key == "id") {
      std::string id;
      s = ReadString(value, field, &id);
      if (s.ok() && !path_id.empty() && id != path_id) {
        s = InvalidArgument(field, "differs from the id in the path");
      }
      d.id = std::move(id);
    } else if (key == "cron") {
      s = ReadString(value, field, &d.cron);
    } else if (key == "tz") {
      s = ReadString(value, field, &d.tz);
    } else if (key == "queue") {
      s = ReadString(value, field, &d.queue);
    } else if (key == "type") {
      s = ReadString(value, field, &d.type);
    } else if (key == "data") {
      if (!value.is_object()) {
        s = InvalidArgument(field, "must be a JSON object");
        data_read = false;
      } else {
        d.data_json = json::serialize(value);
      }
    } else if (key == "options") {
      s = ReadOptions(value, &d.options);
    } else if (key == "start_ms" || key == "end_ms") {
      s = ReadInteger(value, field, 0, kYear2200Ms, &n);
      if (s.ok()) (key == "start_ms" ? d.start_ms : d.end_ms) = n;
    } else if (key == "max_runs") {
      s = ReadInteger(value, field, 0, int64_t{1} << 40, &n);
      if (s.ok()) d.max_runs = n;
    } else if (key == "missed") {
      s = ReadMissed(value, &d.catch_up);
    } else if (key == "paused") {
      if (!value.is_bool()) {
        s = InvalidArgument(field, "must be true or false");
      } else {
        d.paused = value.get_bool();
      }
    } else {
      s = InvalidArgument(field, "unknown field");
    }
    errors.Check(s);
  }
  if (d.id.empty()) errors.Add(InvalidArgument("id", "is required"));
  errors.Check(ValidateScheduleDefinition(d));
  // The type's own checks of its data need a well-formed type and data.
  if (check_job && data_read && ValidateName("type", d.type).ok()) {
    errors.Check(check_job(d.JobTemplate()));
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return d;
}

std::string EncodeScheduleDefinition(const ScheduleDefinition& d) {
  const BackoffPolicy& b = d.options.backoff;
  json::object options{
      {"priority", d.options.priority},
      {"max_attempts", d.options.max_attempts},
      {"backoff",
       {{"type", BackoffTypeName(b.type)},
        {"delay_ms", b.delay.count()},
        {"max_delay_ms", b.max_delay.count()},
        {"jitter", b.jitter}}},
      {"timeout_ms", d.options.timeout.count()},
      {"retention",
       {{"completed", EncodeRetention(d.options.keep_completed)},
        {"dead", EncodeRetention(d.options.keep_dead)}}},
  };
  json::object o{
      {"id", d.id}, {"cron", d.cron}, {"tz", d.tz}, {"queue", d.job_queue()}, {"type", d.type}};
  o["data"] = json::parse(d.data_json);
  if (!d.options.group.empty()) options["group"] = d.options.group;
  o["options"] = std::move(options);
  if (d.start_ms) o["start_ms"] = *d.start_ms;
  if (d.end_ms) o["end_ms"] = *d.end_ms;
  o["max_runs"] = d.max_runs;
  if (d.catch_up > 0) {
    o["missed"] = {{"catch_up", d.catch_up}};
  } else {
    o["missed"] = "skip";
  }
  return json::serialize(o);
}

}  // namespace taskq::scheduler
