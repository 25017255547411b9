// The commands for people at a terminal: enqueue, stats, jobs, retry, config. Each prints a
// result and returns the process exit code (0 ok, 1 failed, with the reason on stderr).
#pragma once

#include <string>
#include <vector>

#include "taskq/client.h"
#include "taskq/job.h"

namespace taskq::bin {

struct Target {
  std::string redis_url;
  std::string key_prefix;
  // --output: "table" or "json"; empty: each command's own (lists as tables, records as JSON).
  std::string output;
};

// Prints "taskq: <status>" on stderr and returns the exit code 1.
int Fail(const Status& status);
// Prints one record, given as a JSON object: one line of JSON, or with --output table one
// "name  value" line per member (strings bare, other values as JSON).
void EmitRecord(const Target& target, const std::string& json);

// The whole of the file at `path`, or of standard input for "-" (a request body for the
// commands that take one, as the API's POST would).
Result<std::string> ReadInput(const std::string& path);

int EnqueueCommand(const Target& target, const EnqueueRequest& request);
int StatsCommand(const Target& target);
// Every schedule, one line each: id, cron, zone, queue, next fire time, last run, status.
int SchedulesCommand(const Target& target);
// One page of a queue's jobs in a state, one line each (id, state, type, attempts, age, error),
// from `cursor` (empty: the first page). When more follow, "next page: --cursor C" goes to stderr.
int JobsCommand(const Target& target, const std::string& queue, const std::string& state,
                int64_t limit, const std::string& cursor);
// Prints a queue's limits; with changes, applies them first (rate "none" / concurrency 0 remove
// that limit; what is not given stays as it is).
struct LimitChanges {
  std::string rate;          // "" unchanged, "none", or as ParseRate reads it ("100/1s")
  int64_t concurrency = -1;  // -1 unchanged, 0 none
  std::string group_rate;    // per group, like rate
  int64_t group_concurrency = -1;
  std::string group_field;         // "" unchanged, "none", or the data field's name
  int64_t priority_aging_ms = -1;  // -1 unchanged, 0 off
  int64_t max_length = -1;         // -1 unchanged, 0 none
};
int LimitsCommand(const Target& target, const std::string& queue, const LimitChanges& changes);

// `taskq shards QUEUE [N]`: prints how many shards the queue has, after spreading it over N when
// given (docs/architecture.md, "Sharded queues"). N 0: print only.
int ShardsCommand(const Target& target, const std::string& queue, int32_t shards);
// Retries a dead job (or cuts a retrying job's backoff short); `queue` empty: find it.
int RetryCommand(const Target& target, const std::string& id, const std::string& queue);
struct ConfigEntry {
  std::string section;  // "" for the global keys, else the subcommand ("up")
  std::string key;      // the flag's name without dashes, as --config files spell it
  std::string value;    // as TOML: a quoted string, a number, true/false or an array
  bool secret = false;  // printed as "****" when set
};
// Prints the effective configuration (flags, TASKQ_* environment, --config file, defaults) as
// TOML that `taskq --config FILE` reads back, with secrets masked (as comments) and a password
// in a URL replaced by ****.
// Reads a password (the first line of standard input) and prints its hash for --dashboard-user.
int HashPasswordCommand();
int ConfigCommand(const std::vector<ConfigEntry>& entries);
std::string TomlString(const std::string& text);
// A TOML literal string ('...', read back verbatim) when `text` allows one, else TomlString. CLI11
// reads "\\" in a basic string back as two backslashes, so JSON values (--schedule) that hold
// escapes only round-trip as literals.
std::string TomlLiteral(const std::string& text);

}  // namespace taskq::bin
