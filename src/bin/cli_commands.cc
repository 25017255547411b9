#include "bin/cli_commands.h"

#include <cstdio>
#include <iostream>

#include "common/json_text.h"
#include "common/rate_text.h"
#include "common/rfc3339.h"
#include "dashboard/password_hash.h"
#include "scheduler/schedule_store.h"
#include "taskq/inspector.h"

namespace taskq::bin {

int Fail(const Status& status) {
  std::fprintf(stderr, "taskq: %s\n", status.ToString().c_str());
  return 1;
}

int EnqueueCommand(const Target& target, const EnqueueRequest& request) {
  auto client = Client::Open({target.redis_url, target.key_prefix});
  if (!client.ok()) return Fail(client.status());
  auto result = (*client)->Enqueue(request);
  if (!result.ok()) return Fail(result.status());
  std::printf("{\"id\":%s,\"queue\":%s,\"created\":%s,\"state\":%s}\n",
              JsonString(result->id).c_str(), JsonString(result->queue).c_str(),
              result->created ? "true" : "false",
              result->state ? JsonString(JobStateName(*result->state)).c_str() : "null");
  return 0;
}

int StatsCommand(const Target& target) {
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  auto names = (*inspector)->Queues();
  if (!names.ok()) return Fail(names.status());
  std::printf("%-24s %9s %9s %9s %9s %9s %9s %s\n", "queue", "waiting", "delayed", "active",
              "retrying", "completed", "dead", "");
  for (const std::string& name : *names) {
    auto c = (*inspector)->Counts(name);
    if (!c.ok()) return Fail(c.status());
    std::printf("%-24s %9lld %9lld %9lld %9lld %9lld %9lld %s\n", name.c_str(),
                static_cast<long long>(c->waiting), static_cast<long long>(c->delayed),
                static_cast<long long>(c->active), static_cast<long long>(c->retrying),
                static_cast<long long>(c->completed), static_cast<long long>(c->dead),
                c->paused ? "paused" : "");
  }
  return 0;
}

int SchedulesCommand(const Target& target) {
  auto store = scheduler::ScheduleStore::Open({target.redis_url, target.key_prefix});
  if (!store.ok()) return Fail(store.status());
  auto list = (*store)->List();
  if (!list.ok()) return Fail(list.status());
  std::printf("%-24s %-20s %-18s %-16s %-24s %-24s %s\n", "id", "cron", "tz", "queue", "next fire",
              "last run", "status");
  for (const scheduler::ScheduleInfo& s : list->schedules) {
    const scheduler::ScheduleState& st = s.state;
    const std::string next = st.ended() ? "-" : FormatRfc3339Ms(st.next_fire_ms);
    const std::string last = st.last_fire_ms > 0 ? FormatRfc3339Ms(st.last_fire_ms) : "-";
    const char* status = scheduler::ScheduleStatusName(s);
    std::printf("%-24s %-20s %-18s %-16s %-24s %-24s %s\n", s.definition.id.c_str(),
                s.definition.cron.c_str(), s.definition.tz.c_str(),
                s.definition.job_queue().c_str(), next.c_str(), last.c_str(), status);
  }
  return 0;
}

int JobsCommand(const Target& target, const std::string& queue, const std::string& state_name,
                int64_t limit) {
  auto state = ParseJobState(state_name);
  if (!state) {
    return Fail(InvalidArgument(
        "--state", "must be one of waiting, delayed, active, completed, retrying, dead"));
  }
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  auto jobs = (*inspector)->List(queue, *state, 0, limit);
  if (!jobs.ok()) return Fail(jobs.status());
  std::printf("%-28s %-10s %-16s %8s  %s\n", "id", "state", "type", "attempts", "last error");
  for (const Job& job : *jobs) {
    std::printf("%-28s %-10s %-16s %8d  %s\n", job.id.c_str(), JobStateName(job.state),
                job.type.c_str(), job.attempts,
                job.errors.empty() ? "" : job.errors.front().message.c_str());
  }
  return 0;
}

int RetryCommand(const Target& target, const std::string& id, const std::string& queue) {
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  auto job = (*inspector)->Find(id, queue);
  if (!job.ok()) return Fail(job.status());
  if (!job->has_value()) return Fail(NotFound("no job with id '" + id + "'"));
  auto moved = (*inspector)->Retry(**job);
  if (!moved.ok()) return Fail(moved.status());
  if (!*moved) {
    return Fail(Status(StatusCode::kFailedPrecondition,
                       std::string("job ") + id + " is " + JobStateName((*job)->state) +
                           "; only dead or retrying jobs can be retried"));
  }
  std::printf("{\"id\":%s,\"queue\":%s,\"state\":\"waiting\"}\n", JsonString(id).c_str(),
              JsonString((*job)->queue).c_str());
  return 0;
}

int LimitsCommand(const Target& target, const std::string& queue, const LimitChanges& changes) {
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  auto limits = (*inspector)->Limits(queue);
  if (!limits.ok()) return Fail(limits.status());
  // A rate flag: unchanged when empty, removed by "none".
  auto apply_rate = [](const std::string& text, const char* flag, RateLimit* rate) -> Status {
    if (text.empty()) return Status::Ok();
    if (text == "none") {
      *rate = RateLimit{};
      return Status::Ok();
    }
    auto parsed = ParseRate(text, flag);
    if (!parsed.ok()) return parsed.status();
    *rate = *parsed;
    return Status::Ok();
  };
  if (!changes.rate.empty() || changes.concurrency >= 0 || !changes.group_rate.empty() ||
      changes.group_concurrency >= 0 || !changes.group_field.empty() ||
      changes.priority_aging_ms >= 0) {
    if (Status s = apply_rate(changes.rate, "--rate", &limits->rate); !s.ok()) return Fail(s);
    if (Status s = apply_rate(changes.group_rate, "--group-rate", &limits->group_rate); !s.ok()) {
      return Fail(s);
    }
    if (changes.concurrency >= 0) limits->concurrency = static_cast<int32_t>(changes.concurrency);
    if (changes.group_concurrency >= 0) {
      limits->group_concurrency = static_cast<int32_t>(changes.group_concurrency);
    }
    if (changes.priority_aging_ms >= 0) {
      limits->priority_aging = std::chrono::milliseconds(changes.priority_aging_ms);
    }
    if (!changes.group_field.empty()) {
      limits->group_field = changes.group_field == "none" ? "" : changes.group_field;
    }
    if (Status s = (*inspector)->SetLimits(queue, *limits); !s.ok()) return Fail(s);
  }
  auto rate = [](const RateLimit& r) { return r.enabled() ? JsonString(FormatRate(r)) : "null"; };
  auto count = [](int32_t n) { return n > 0 ? std::to_string(n) : std::string("null"); };
  const std::string field = limits->group_field.empty() ? "null" : JsonString(limits->group_field);
  std::printf(
      "{\"queue\":%s,\"rate\":%s,\"concurrency\":%s,\"group\":{\"rate\":%s,"
      "\"concurrency\":%s,\"field\":%s},\"priority_aging_ms\":%s}\n",
      JsonString(queue).c_str(), rate(limits->rate).c_str(), count(limits->concurrency).c_str(),
      rate(limits->group_rate).c_str(), count(limits->group_concurrency).c_str(), field.c_str(),
      count(static_cast<int32_t>(limits->priority_aging.count())).c_str());
  return 0;
}

std::string TomlString(const std::string& text) {
  return JsonString(text);  // a JSON string literal is a valid TOML basic string
}

std::string TomlLiteral(const std::string& text) {
  if (text.find_first_of("'\n\r") != std::string::npos) return TomlString(text);
  return "'" + text + "'";
}

int ConfigCommand(const std::vector<ConfigEntry>& entries) {
  std::string section = "";
  for (const ConfigEntry& e : entries) {
    if (e.section != section) {
      section = e.section;
      std::printf("\n[%s]\n", section.c_str());
    }
    const std::string& value = e.value;
    // Masked secrets and empty lists are comments, so that the output reads back as a config
    // file (a list option needs at least one value; a masked secret is not the secret).
    if (e.secret && value != "\"\"" && value != "[]") {
      std::printf("# %s = \"***\"  (set, masked)\n", e.key.c_str());
    } else if (value == "[]") {
      std::printf("# %s = []\n", e.key.c_str());
    } else {
      std::printf("%s = %s\n", e.key.c_str(), value.c_str());
    }
  }
  return 0;
}

}  // namespace taskq::bin

namespace taskq::bin {

int HashPasswordCommand() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  auto hash = dashboard::HashPassword(password);
  if (!hash.ok()) {
    std::cerr << "taskq hash-password: " << hash.status().ToString() << "\n";
    return 2;
  }
  std::cout << *hash << "\n";
  return 0;
}

}  // namespace taskq::bin
