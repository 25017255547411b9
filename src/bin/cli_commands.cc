#include "bin/cli_commands.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "common/job_states.h"
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

void EmitRecord(const Target& target, const std::string& json) {
  boost::system::error_code error;
  const boost::json::value parsed = boost::json::parse(json, error);
  if (target.output != "table" || error || !parsed.is_object()) {
    std::printf("%s\n", json.c_str());
    return;
  }
  for (const auto& member : parsed.as_object()) {
    const std::string value = member.value().is_string() ? std::string(member.value().as_string())
                                                         : boost::json::serialize(member.value());
    std::printf("%-16s %s\n", std::string(member.key()).c_str(), value.c_str());
  }
}

namespace {

// A list: a JSON array of objects with --output json, else the table `print_table` prints.
template <typename Rows, typename ToJson>
void EmitList(const Target& target, const Rows& rows, ToJson to_json,
              const std::function<void()>& print_table) {
  if (target.output != "json") return print_table();
  std::string out = "[";
  for (const auto& row : rows) {
    if (out.size() > 1) out += ',';
    out += to_json(row);
  }
  std::printf("%s]\n", out.c_str());
}

}  // namespace

Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return InvalidArgument("FILE", "cannot read " + path);
    text << in.rdbuf();
  }
  return text.str();
}

int EnqueueCommand(const Target& target, const EnqueueRequest& request) {
  auto client = Client::Open({target.redis_url, target.key_prefix});
  if (!client.ok()) return Fail(client.status());
  auto result = (*client)->Enqueue(request);
  if (!result.ok()) return Fail(result.status());
  EmitRecord(target, "{\"id\":" + JsonString(result->id) +
                         ",\"queue\":" + JsonString(result->queue) +
                         ",\"created\":" + (result->created ? "true" : "false") + ",\"state\":" +
                         (result->state ? JsonString(JobStateName(*result->state)) : "null") + "}");
  return 0;
}

int StatsCommand(const Target& target) {
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  auto names = (*inspector)->Queues();
  if (!names.ok()) return Fail(names.status());
  std::vector<std::pair<std::string, QueueCounts>> rows;
  for (const std::string& name : *names) {
    auto c = (*inspector)->Counts(name);
    if (!c.ok()) return Fail(c.status());
    rows.emplace_back(name, *c);
  }
  EmitList(
      target, rows,
      [](const auto& row) {
        const QueueCounts& c = row.second;
        return "{\"queue\":" + JsonString(row.first) + ",\"waiting\":" + std::to_string(c.waiting) +
               ",\"delayed\":" + std::to_string(c.delayed) +
               ",\"active\":" + std::to_string(c.active) +
               ",\"retrying\":" + std::to_string(c.retrying) +
               ",\"completed\":" + std::to_string(c.completed) +
               ",\"dead\":" + std::to_string(c.dead) + ",\"held\":" + std::to_string(c.held) +
               ",\"paused\":" + (c.paused ? "true" : "false") + "}";
      },
      [&rows] {
        std::printf("%-24s %9s %9s %9s %9s %9s %9s %9s %s\n", "queue", "waiting", "delayed",
                    "active", "retrying", "completed", "dead", "held", "");
        for (const auto& [name, c] : rows) {
          std::printf("%-24s %9lld %9lld %9lld %9lld %9lld %9lld %9lld %s\n", name.c_str(),
                      static_cast<long long>(c.waiting), static_cast<long long>(c.delayed),
                      static_cast<long long>(c.active), static_cast<long long>(c.retrying),
                      static_cast<long long>(c.completed), static_cast<long long>(c.dead),
                      static_cast<long long>(c.held), c.paused ? "paused" : "");
        }
      });
  return 0;
}

int SchedulesCommand(const Target& target) {
  auto store = scheduler::ScheduleStore::Open({target.redis_url, target.key_prefix});
  if (!store.ok()) return Fail(store.status());
  auto list = (*store)->List();
  if (!list.ok()) return Fail(list.status());
  auto next_of = [](const scheduler::ScheduleInfo& s) {
    return s.state.ended() ? std::string() : FormatRfc3339Ms(s.state.next_fire_ms);
  };
  auto last_of = [](const scheduler::ScheduleInfo& s) {
    return s.state.last_fire_ms > 0 ? FormatRfc3339Ms(s.state.last_fire_ms) : std::string();
  };
  EmitList(
      target, list->schedules,
      [&](const scheduler::ScheduleInfo& s) {
        auto text_or_null = [](const std::string& t) { return t.empty() ? "null" : JsonString(t); };
        return "{\"id\":" + JsonString(s.definition.id) +
               ",\"cron\":" + JsonString(s.definition.cron) +
               ",\"tz\":" + JsonString(s.definition.tz) +
               ",\"queue\":" + JsonString(s.definition.job_queue()) +
               ",\"next_fire\":" + text_or_null(next_of(s)) +
               ",\"last_run\":" + text_or_null(last_of(s)) +
               ",\"status\":" + JsonString(scheduler::ScheduleStatusName(s)) + "}";
      },
      [&] {
        std::printf("%-24s %-20s %-18s %-16s %-24s %-24s %s\n", "id", "cron", "tz", "queue",
                    "next fire", "last run", "status");
        for (const scheduler::ScheduleInfo& s : list->schedules) {
          const std::string next = next_of(s), last = last_of(s);
          std::printf("%-24s %-20s %-18s %-16s %-24s %-24s %s\n", s.definition.id.c_str(),
                      s.definition.cron.c_str(), s.definition.tz.c_str(),
                      s.definition.job_queue().c_str(), next.empty() ? "-" : next.c_str(),
                      last.empty() ? "-" : last.c_str(), scheduler::ScheduleStatusName(s));
        }
      });
  return 0;
}

int JobsCommand(const Target& target, const std::string& queue, const std::string& state_name,
                int64_t limit, const std::string& cursor_text) {
  auto state = ParseJobState(state_name);
  if (!state) {
    return Fail(InvalidArgument("--state", "must be one of " + JobStateChoices()));
  }
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  JobCursor from;
  if (!cursor_text.empty()) {
    auto cursor = JobCursor::Decode(cursor_text);
    if (!cursor.ok()) return Fail(InvalidArgument("--cursor", cursor.status().message()));
    from = std::move(*cursor);
  }
  auto page = (*inspector)->Page(queue, *state, from, limit);
  if (!page.ok()) return Fail(page.status());
  const std::vector<Job>& jobs = page->jobs;
  EmitList(
      target, jobs,
      [](const Job& job) {
        return "{\"id\":" + JsonString(job.id) +
               ",\"state\":" + JsonString(JobStateName(job.state)) +
               ",\"type\":" + JsonString(job.type) +
               ",\"attempts\":" + std::to_string(job.attempts) + ",\"last_error\":" +
               (job.errors.empty() ? "null" : JsonString(job.errors.front().message)) + "}";
      },
      [&] {
        std::printf("%-28s %-10s %-16s %8s  %s\n", "id", "state", "type", "attempts", "last error");
        for (const Job& job : jobs) {
          std::printf("%-28s %-10s %-16s %8d  %s\n", job.id.c_str(), JobStateName(job.state),
                      job.type.c_str(), job.attempts,
                      job.errors.empty() ? "" : job.errors.front().message.c_str());
        }
      });
  if (!page->at_end) std::fprintf(stderr, "next page: --cursor %s\n", page->next.Encode().c_str());
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
  EmitRecord(target, "{\"id\":" + JsonString(id) + ",\"queue\":" + JsonString((*job)->queue) +
                         ",\"state\":\"waiting\"}");
  return 0;
}

int ShardsCommand(const Target& target, const std::string& queue, int32_t shards) {
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  if (shards > 0) {
    if (Status s = (*inspector)->SetShards(queue, shards); !s.ok()) return Fail(s);
  }
  auto now = (*inspector)->Shards(queue);
  if (!now.ok()) return Fail(now.status());
  EmitRecord(target,
             "{\"queue\":" + JsonString(queue) + ",\"shards\":" + std::to_string(*now) + "}");
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
      changes.priority_aging_ms >= 0 || changes.max_length >= 0) {
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
    if (changes.max_length >= 0) limits->max_length = changes.max_length;
    if (!changes.group_field.empty()) {
      limits->group_field = changes.group_field == "none" ? "" : changes.group_field;
    }
    if (Status s = (*inspector)->SetLimits(queue, *limits); !s.ok()) return Fail(s);
  }
  auto rate = [](const RateLimit& r) { return r.enabled() ? JsonString(FormatRate(r)) : "null"; };
  auto count = [](int32_t n) { return n > 0 ? std::to_string(n) : std::string("null"); };
  const std::string field = limits->group_field.empty() ? "null" : JsonString(limits->group_field);
  EmitRecord(target,
             "{\"queue\":" + JsonString(queue) + ",\"rate\":" + rate(limits->rate) +
                 ",\"concurrency\":" + count(limits->concurrency) + ",\"group\":{\"rate\":" +
                 rate(limits->group_rate) + ",\"concurrency\":" + count(limits->group_concurrency) +
                 ",\"field\":" + field + "},\"priority_aging_ms\":" +
                 count(static_cast<int32_t>(limits->priority_aging.count())) + ",\"max_length\":" +
                 (limits->max_length > 0 ? std::to_string(limits->max_length) : "null") + "}");
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
