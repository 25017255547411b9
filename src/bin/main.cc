// taskq: one binary for every role. Thin: parses configuration and wires library objects.
//   taskq up        managed redis-server (unless --redis-url) + API + dashboard + workers
//   taskq api       the HTTP API (and the dashboard listener), against a configured Redis
//   taskq worker    a worker for the given queues, against a configured Redis
//   taskq scheduler enqueues the jobs of schedules when they are due (any number may run)
//   taskq schedules list the schedules
//   taskq enqueue   enqueue one job (prints it as JSON)
//   taskq stats     counts per state of every queue
//   taskq jobs      a queue's jobs in one state;  taskq retry  retry a dead job
//   taskq limits    a queue's rate and concurrency limits, shown or changed
//   taskq shards    how many shards a queue is spread over, shown or changed
//   taskq pause, resume, clean, retry-dead   a queue's actions (cli_actions.h)
//   taskq show, cancel, promote, remove      a job's
//   taskq flows submit, show, cancel         a flow's (cli_flows.h)
//   taskq batches create, add, close, show, cancel   a batch's (cli_batches.h)
//   taskq config    the effective configuration, secrets masked
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <tuple>

#include "bin/api_runner.h"
#include "bin/cli_actions.h"
#include "bin/cli_batches.h"
#include "bin/cli_commands.h"
#include "bin/cli_flows.h"
#include "bin/flags.h"
#include "bin/job_types.h"
#include "bin/json_log_formatter.h"
#include "bin/managed_redis.h"
#include "bin/redis_tls_flags.h"
#include "bin/secret_files.h"
#include "bin/worker_child.h"
#include "common/rfc3339.h"
#include "common/shard_placement.h"
#include "common/url_password.h"
#include "scheduler/schedule_store.h"
#include "scheduler/scheduler.h"
#include "taskq/client.h"
#include "taskq/inspector.h"
#include "taskq/worker.h"

namespace {

using taskq::bin::AddApiFlags;
using taskq::bin::AddAttachmentsDirFlag;
using taskq::bin::AddHandlerFlags;
using taskq::bin::AddSchedulerFlags;
using taskq::bin::AddTypeQueuesFlag;
using taskq::bin::AddWorkerFlags;
using taskq::bin::SchedulerFlags;

struct CommonFlags {
  std::string redis_url;
  std::string key_prefix = "taskq";
  std::string log_level = "info";
  std::string log_format = "text";
  std::string output;  // the commands' output: "table", "json", or each command's own
};

// Blocks SIGINT and SIGTERM in every thread (call before starting any) and waits for one.
sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int WaitForShutdownSignal() {
  sigset_t set = ShutdownSignals();
  int signal = 0;
  sigwait(&set, &signal);
  spdlog::info("received {}; shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  return signal;
}

// Waits until Redis answers: a worker or scheduler host may come up before its Redis, or while
// it restarts. Returns OK once it answers, the error when it is not one worth waiting out (a
// refused maxmemory-policy, bad credentials), and kDeadlineExceeded when SIGINT/SIGTERM came
// first.
taskq::Status AwaitRedis(const std::string& url, const std::string& prefix) {
  std::chrono::milliseconds pause(100);
  for (bool said = false;;) {
    auto inspector = taskq::Inspector::Open({url, prefix});
    taskq::Status s = inspector.ok() ? (*inspector)->CheckServer() : inspector.status();
    if (s.ok() || s.code() != taskq::StatusCode::kUnavailable) return s;
    if (!said)
      spdlog::warn("waiting for Redis at {}: {}", taskq::MaskUrlPassword(url), s.ToString());
    said = true;
    const sigset_t set = ShutdownSignals();
    const timespec wait{0, static_cast<long>(pause.count()) * 1000000};
    if (sigtimedwait(&set, nullptr, &wait) > 0) {
      return taskq::Status(taskq::StatusCode::kDeadlineExceeded,
                           "stopped while waiting for Redis at " + taskq::MaskUrlPassword(url));
    }
    pause = std::min(pause * 2, std::chrono::milliseconds(900));
  }
}

int Fail(const taskq::Status& status) {
  spdlog::error("{}", status.ToString());
  return 1;
}

// Syncs the configured schedules, then starts the loop.
taskq::Result<std::unique_ptr<taskq::scheduler::Scheduler>> StartScheduler(
    const SchedulerFlags& flags, const std::string& redis_url, const std::string& key_prefix) {
  std::vector<taskq::scheduler::ScheduleDefinition> definitions;
  for (size_t i = 0; i < flags.schedules.size(); ++i) {
    auto definition = taskq::scheduler::ParseScheduleDefinition(flags.schedules[i]);
    if (!definition.ok()) {
      const taskq::Status& s = definition.status();
      return taskq::Status(
          s.code(), s.message(),
          "schedule[" + std::to_string(i) + "]" + (s.field().empty() ? "" : "." + s.field()));
    }
    definitions.push_back(std::move(*definition));
  }
  taskq::ClientOptions client{redis_url, key_prefix};
  if (!definitions.empty()) {
    auto store = taskq::scheduler::ScheduleStore::Open(client);
    if (!store.ok()) return store.status();
    for (const auto& definition : definitions) {
      auto saved = (*store)->Save(definition, /*create_only=*/false);
      if (!saved.ok()) return saved.status();
    }
    spdlog::info("scheduler: {} configured schedule(s) synced", definitions.size());
  }
  taskq::scheduler::SchedulerOptions options;
  options.redis_url = redis_url;
  options.key_prefix = key_prefix;
  options.tick = std::chrono::milliseconds(flags.tick_ms);
  options.lease = std::chrono::milliseconds(flags.lease_ms);
  options.grace = std::chrono::milliseconds(flags.grace_ms);
  auto scheduler = taskq::scheduler::Scheduler::Open(options);
  if (!scheduler.ok()) return scheduler.status();
  (*scheduler)->Start();
  spdlog::info("scheduler {} running on {}", (*scheduler)->token(),
               taskq::MaskUrlPassword(redis_url));
  return scheduler;
}

// The built-in handlers; those that read or clean queues (export, cleanup) use the worker's own
// Redis.
void RegisterHandlers(taskq::Worker& worker, const taskq::WorkerOptions& options,
                      const taskq::bin::HandlerFlags& handlers) {
  taskq::bin::HandlerFlags handler_flags = handlers;
  handler_flags.redis_url = options.redis_url;
  handler_flags.key_prefix = options.key_prefix;
  taskq::bin::RegisterBuiltinHandlers(worker, handler_flags, options.callback_queue);
}

// Serves a worker as one of its handler processes until it closes the connection.
int ServeAsHandlerProcess(const taskq::WorkerOptions& options,
                          const taskq::bin::HandlerFlags& handlers) {
  taskq::Worker worker(options);
  RegisterHandlers(worker, options, handlers);
  return worker.ServeHandlerProcess();
}

// Runs until SIGINT/SIGTERM: the API (when `api` is set) and a worker (when it has queues).
int Run(const taskq::WorkerOptions& options, const taskq::bin::ApiFlags* api,
        const taskq::bin::HandlerFlags& handlers, const SchedulerFlags* scheduler_flags) {
  if (scheduler_flags || !options.queues.empty()) {
    // (The API alone starts without Redis: it answers 503 until Redis is back.)
    taskq::Status ready = AwaitRedis(options.redis_url, options.key_prefix);
    if (ready.code() == taskq::StatusCode::kDeadlineExceeded) return 0;
    if (!ready.ok()) return Fail(ready);
  }
  std::unique_ptr<taskq::scheduler::Scheduler> scheduler;
  if (scheduler_flags) {
    auto started = StartScheduler(*scheduler_flags, options.redis_url, options.key_prefix);
    if (!started.ok()) return Fail(started.status());
    scheduler = std::move(*started);
  }
  std::unique_ptr<taskq::bin::ApiRunner> api_runner;
  if (api) {
    std::vector<taskq::api::JobTypeInfo> types =
        taskq::bin::KnownJobTypes(api->job_types, handlers);
    if (auto s = taskq::bin::AddSecretFields(api->secret_fields, &types); !s.ok()) return Fail(s);
    auto started = taskq::bin::ApiRunner::Start(*api, {options.redis_url, options.key_prefix},
                                                std::move(types));
    if (!started.ok()) return Fail(started.status());
    api_runner = std::move(*started);
  }
  if (options.queues.empty()) {
    WaitForShutdownSignal();
    if (scheduler) scheduler->Stop();
    if (api_runner) api_runner->Stop();
    return 0;
  }
  taskq::Worker worker(options);
  RegisterHandlers(worker, options, handlers);
  // A job whose type has no handler on this worker goes dead with a message naming the type.
  if (auto s = worker.Start(); !s.ok()) return Fail(s);
  std::string names;
  for (const auto& q : options.queues) {
    names += (names.empty() ? "" : ", ") + q.queue + "=" + std::to_string(q.concurrency);
  }
  spdlog::info("worker running on {} ({})", taskq::MaskUrlPassword(options.redis_url), names);
  WaitForShutdownSignal();
  // No new jobs while the worker drains: the scheduler gives its lease up to another one.
  if (scheduler) scheduler->Stop();
  if (api_runner) api_runner->Stop();
  worker.Stop();
  auto stats = worker.stats();
  spdlog::info("worker stopped: {} completed, {} failed attempts, {} results refused",
               stats.completed, stats.failed, stats.rejected);
  if (worker.stuck_handlers() > 0) {
    spdlog::warn("{} handler(s) ignored the stop request; exiting without them",
                 worker.stuck_handlers());
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A write to a pipe or connection its peer closed must fail with EPIPE where it happens, not
  // kill the process (taskq's own sockets send with MSG_NOSIGNAL; this covers everything else).
  signal(SIGPIPE, SIG_IGN);
  // A worker's handler process (process isolation) parses the same configuration and serves its
  // handlers, and nothing else; its worker stops it with SIGTERM, which it must not block.
  const bool handler_process = taskq::IsHandlerProcess();
  // The worker child of a `taskq up` runs only the workers (bin/worker_child.h).
  const bool up_worker_child = !handler_process && taskq::bin::IsUpWorkerChild();
  // A child whose parent ended before it could check must not go on as a taskq of its own (a
  // second worker, or a second `up` with its own Redis).
  for (const char* variable : {"TASKQ_HANDLER_PROCESS", taskq::bin::kUpWorkerVariable}) {
    if (std::getenv(variable) != nullptr && !handler_process && !up_worker_child) {
      std::fprintf(stderr, "%s is set, but the process that set it is gone: exiting\n", variable);
      return 1;
    }
  }
  sigset_t signals = ShutdownSignals();
  if (!handler_process) pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CLI::App app{"taskq: a distributed task queue on Redis"};
  app.require_subcommand(1);
  app.allow_config_extras(false);  // an unknown key in the config file is an error, not ignored
  app.set_config("--config", "", "TOML configuration file");
  CommonFlags common;
  // `taskq config` prints the global flags and those of `up` (which takes every role's flags).
  taskq::bin::FlagListing listing;
  taskq::bin::FlagAdder global_flags(&app, &listing, "");
  global_flags
      .Option("--redis-url", common.redis_url,
              "redis://[user:pass@]host:port/db, "
              "redis+sentinel://host:port[,host:port...]/master/db, "
              "redis+cluster://host:port[,host:port...], or rediss:// (and rediss+sentinel://, "
              "rediss+cluster://) for TLS",
              taskq::bin::Shown::kUrl)
      ->envname("TASKQ_REDIS_URL");
  // Secret flags also come from files (--NAME-file, TASKQ_..._FILE), read once parsed.
  taskq::bin::SecretFiles secret_files;
  secret_files.Add(&app, "redis-url", "TASKQ_REDIS_URL", &common.redis_url);
  taskq::bin::RedisTlsFlags redis_tls;
  taskq::bin::AddRedisTlsFlags(global_flags, &redis_tls);
  global_flags.Option("--key-prefix", common.key_prefix, "prefix of every Redis key")
      ->envname("TASKQ_KEY_PREFIX");
  // Names in any case; an unknown one is refused (spdlog would read it as "off", silently).
  global_flags.Option("--log-level", common.log_level, "trace, debug, info, warn, error, off")
      ->envname("TASKQ_LOG_LEVEL")
      ->transform(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"},
                                CLI::ignore_case));
  global_flags.Option("--log-format", common.log_format, "text, or json (one object per line)")
      ->envname("TASKQ_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));
  global_flags
      .Option("--output", common.output,
              "table or json: how commands print (default: lists as tables, records as JSON)")
      ->envname("TASKQ_OUTPUT")
      ->check(
          [](const std::string& value) {
            return value.empty() || value == "table" || value == "json"
                       ? std::string()
                       : std::string("must be table or json");
          },
          "table or json");
  app.set_version_flag("--version", "taskq " TASKQ_VERSION);

  taskq::WorkerOptions worker_options;
  taskq::bin::WorkerFlags worker_flags;

  taskq::bin::ApiFlags api_flags;
  CLI::App* up = app.add_subcommand("up",
                                    "run everything: managed Redis (unless --redis-url), "
                                    "the API, the dashboard and workers for every queue");
  AddApiFlags(up, &api_flags, &secret_files, &listing);
  taskq::bin::HandlerFlags handler_flags;
  int redis_port = 6379;
  AddHandlerFlags(up, &handler_flags, &secret_files, &listing);
  taskq::bin::FlagAdder(up, &listing)
      .Option("--redis-port", redis_port, "port of the managed Redis")
      ->envname("TASKQ_REDIS_PORT")
      ->check(CLI::Range(1, 65535));
  AddWorkerFlags(up, &worker_options, &worker_flags, &listing);
  SchedulerFlags scheduler_flags;
  AddSchedulerFlags(up, &scheduler_flags, &listing);

  CLI::App* api = app.add_subcommand("api", "run the HTTP API and the dashboard listener");
  AddApiFlags(api, &api_flags, &secret_files);
  AddAttachmentsDirFlag(api, &handler_flags.email.attachments_dir);
  AddTypeQueuesFlag(api, &handler_flags.type_queues);

  CLI::App* worker = app.add_subcommand("worker", "run a worker against a configured Redis");
  AddHandlerFlags(worker, &handler_flags, &secret_files);
  AddWorkerFlags(worker, &worker_options, &worker_flags);

  CLI::App* scheduler = app.add_subcommand(
      "scheduler", "enqueue the jobs of schedules when they are due; run as many as you like");
  AddSchedulerFlags(scheduler, &scheduler_flags);

  CLI::App* schedules = app.add_subcommand("schedules", "list the schedules");

  CLI::App* enqueue = app.add_subcommand("enqueue", "enqueue one job and print it");
  taskq::EnqueueRequest request;
  int64_t delay_ms = 0;
  enqueue->add_option("--type", request.type, "job type")->required();
  enqueue->add_option("--data", request.data_json, "job data, a JSON object");
  enqueue->add_option("--queue", request.options.queue, "queue (default: the type)");
  enqueue->add_option("--job-id", request.options.job_id, "id (enqueue is idempotent by id)");
  enqueue->add_option("--priority", request.options.priority, "lower runs first");
  enqueue->add_option("--delay-ms", delay_ms, "run no earlier than this from now");
  enqueue->add_option("--max-attempts", request.options.max_attempts, "attempts in total");
  std::string run_at, backoff, unique_key, unique_mode = "until_completed";
  int64_t timeout_ms = 0, backoff_ms = -1, unique_ttl_ms = 0;
  enqueue->add_option("--run-at", run_at, "run no earlier than this RFC 3339 time")
      ->excludes("--delay-ms");
  enqueue->add_option("--timeout-ms", timeout_ms, "an attempt running longer fails; 0: default")
      ->check(CLI::Range(int64_t{0}, int64_t{604800000}));
  enqueue->add_option("--backoff", backoff, "exponential, fixed or none")
      ->check(CLI::IsMember({"exponential", "fixed", "none"}));
  enqueue->add_option("--backoff-ms", backoff_ms, "delay before the first retry")
      ->check(CLI::Range(int64_t{0}, int64_t{86400000}));
  enqueue->add_option("--group", request.options.group, "the job's group (docs/limits.md)");
  enqueue->add_option("--unique-key", unique_key, "at most one job of the queue with this key");
  enqueue->add_option("--unique-mode", unique_mode, "until_completed, ttl or debounce")
      ->check(CLI::IsMember({"until_completed", "ttl", "debounce"}));
  enqueue->add_option("--unique-ttl-ms", unique_ttl_ms, "how long a ttl key is held");
  std::string expires_at;
  enqueue->add_option("--expires-at", expires_at,
                      "not started by this RFC 3339 time: not run, dead as expired");
  enqueue->add_flag("--lifo", request.options.lifo,
                    "run before the jobs of its priority already waiting (last in, first out)");
  enqueue->add_option("--callback-url", request.options.callback_url,
                      "called as a signed webhook when the job completes or goes dead");
  enqueue->footer(
      "Examples:\n"
      "  taskq enqueue --type email --data '{\"to\":\"user@example.com\",\"subject\":\"Hi\"}'\n"
      "  taskq enqueue --type webhook --data '{\"url\":\"https://example.com/hook\"}' "
      "--run-at 2026-12-24T18:00:00Z --backoff fixed --backoff-ms 5000 --unique-key xmas\n"
      "  taskq enqueue --type email --data '{\"to\":\"user@example.com\",\"subject\":\"Hi\"}' "
      "--callback-url https://example.com/sent");

  CLI::App* stats = app.add_subcommand("stats", "print job counts per queue and state");

  CLI::App* jobs = app.add_subcommand("jobs", "list a queue's jobs in one state");
  std::string jobs_queue, jobs_state = "waiting";
  int64_t jobs_limit = 50;
  jobs->add_option("queue", jobs_queue, "the queue")->required();
  jobs->add_option("--state", jobs_state,
                   "waiting, delayed, active, completed, retrying, dead, held");
  jobs->add_option("--limit", jobs_limit, "at most this many")->check(CLI::Range(1, 1000));
  std::string jobs_cursor;
  jobs->add_option("--cursor", jobs_cursor,
                   "start where a previous page ended (it prints the cursor on stderr)");

  CLI::App* retry = app.add_subcommand("retry", "retry a dead job (or run a retrying one now)");
  std::string retry_id, retry_queue;
  retry->add_option("id", retry_id, "the job's id")->required();
  retry->add_option("--queue", retry_queue, "its queue (default: look in every queue)");

  taskq::bin::ActionCommands actions;
  taskq::bin::AddActionCommands(&app, &actions);
  taskq::bin::FlowCommands flows;
  taskq::bin::AddFlowCommands(&app, &flows);
  taskq::bin::BatchCommands batches;
  taskq::bin::AddBatchCommands(&app, &batches);

  CLI::App* limits = app.add_subcommand(
      "limits", "print a queue's rate and concurrency limits, or change them for all workers");
  std::string limits_queue;
  taskq::bin::LimitChanges limit_changes;
  limits->add_option("queue", limits_queue, "the queue")->required();
  limits->add_option("--rate", limit_changes.rate,
                     "at most N starts per window, e.g. 100/1s, 5/500ms, 1000/1m; none: no limit");
  limits
      ->add_option("--concurrency", limit_changes.concurrency,
                   "at most N active at once across all workers; 0: no limit")
      ->check(CLI::Range(0, taskq::kMaxConcurrencyLimit));
  limits->add_option("--group-rate", limit_changes.group_rate,
                     "the same rate for each group of the queue on its own; none: no limit");
  limits
      ->add_option("--group-concurrency", limit_changes.group_concurrency,
                   "at most N active at once per group; 0: no limit")
      ->check(CLI::Range(0, taskq::kMaxConcurrencyLimit));
  limits->add_option("--group-field", limit_changes.group_field,
                     "a data field naming the group of jobs enqueued without one; none: no field");
  limits
      ->add_option("--priority-aging-ms", limit_changes.priority_aging_ms,
                   "a waiting job gains one priority step per this many ms; 0: off")
      ->check(CLI::Range(0, 86400000));
  limits
      ->add_option("--max-length", limit_changes.max_length,
                   "at most N jobs waiting, delayed or retrying; enqueues beyond it are refused "
                   "(HTTP 429); 0: no maximum")
      ->check(CLI::Range(int64_t{0}, taskq::kMaxQueueLength));

  CLI::App* shards = app.add_subcommand(
      "shards", "print how many shards a queue is spread over, or change it while it is empty");
  std::string shards_queue;
  int32_t shards_count = 0;
  shards->add_option("queue", shards_queue, "the queue")->required();
  shards->add_option("shards", shards_count, "spread the queue over this many shards (1 to 32)")
      ->check(CLI::Range(1, taskq::kMaxShards));

  CLI::App* hash_password = app.add_subcommand(
      "hash-password",
      "read a password from standard input (its first line) and print the hash that "
      "--dashboard-user takes");

  CLI::App* config = app.add_subcommand(
      "config",
      "print the effective configuration (flags, TASKQ_* environment, --config file) "
      "with secrets masked; takes the flags of `up`");
  AddApiFlags(config, &api_flags, &secret_files);
  AddWorkerFlags(config, &worker_options, &worker_flags);
  AddHandlerFlags(config, &handler_flags, &secret_files);
  AddSchedulerFlags(config, &scheduler_flags);

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(common.log_level));
  if (common.log_format == "json") {
    spdlog::set_formatter(std::make_unique<taskq::bin::JsonLogFormatter>());
  }
  // Its worker said at start what the handlers' configuration is; each process need not again.
  if (handler_process && spdlog::get_level() < spdlog::level::warn) {
    spdlog::set_level(spdlog::level::warn);
  }
  if (taskq::Status s = secret_files.Load(); !s.ok()) return Fail(s);
  if (auto url = taskq::bin::WithRedisTlsFlags(common.redis_url, redis_tls, !handler_process);
      url.ok()) {
    common.redis_url = std::move(*url);
  } else {
    return Fail(url.status());
  }

  worker_options.key_prefix = common.key_prefix;
  worker_options.lease = std::chrono::milliseconds(worker_flags.lease_ms);
  worker_options.shutdown_grace = std::chrono::milliseconds(worker_flags.grace_ms);
  worker_options.handler_kill_grace = std::chrono::milliseconds(worker_flags.kill_grace_ms);
  worker_options.history_bucket = std::chrono::milliseconds(worker_flags.history_bucket_ms);
  worker_options.handler_memory_limit_mb = worker_flags.handler_memory_mb;
  if (up->parsed() || worker->parsed()) {
    auto parsed = taskq::ParseQueueList(worker_flags.queues);
    if (!parsed.ok()) return Fail(parsed.status());
    worker_options.queues = std::move(*parsed);
    auto shards = taskq::ParseQueueShards(worker_flags.queue_shards);
    if (!shards.ok()) return Fail(shards.status());
    worker_options.queue_shards = std::move(*shards);
    if (auto s = taskq::bin::ValidateHandlerFlags(handler_flags); !s.ok()) return Fail(s);
  }
  if (api->parsed()) {
    if (auto s = taskq::bin::ParseTypeQueues(handler_flags.type_queues); !s.ok()) {
      return Fail(s.status());
    }
  }
  // Without --redis-url: the Redis on 127.0.0.1:6379, with the password of a managed one that
  // `taskq up` keeps in the same data directory (--data-dir or TASKQ_DATA_DIR, default data/).
  std::string data_dir = handler_flags.data_dir;
  if (!worker->parsed() && !up->parsed()) {
    if (const char* env = std::getenv("TASKQ_DATA_DIR"); env != nullptr && *env != '\0') {
      data_dir = env;
    }
  }
  const std::string default_url = taskq::bin::LocalRedisUrl(data_dir);

  if (handler_process) {
    if (!up->parsed() && !worker->parsed()) {
      return Fail(taskq::Status(taskq::StatusCode::kFailedPrecondition,
                                "a handler process runs `taskq up` or `taskq worker` only"));
    }
    // export and cleanup read the worker's Redis: the managed one of `up`, as the worker has it.
    worker_options.redis_url = !common.redis_url.empty() ? common.redis_url
                               : up->parsed() ? taskq::bin::LocalRedisUrl(data_dir, redis_port)
                                              : default_url;
    return ServeAsHandlerProcess(worker_options, handler_flags);
  }
  if (up->parsed() && up_worker_child) {
    // The worker part of a `taskq up` (bin/worker_child.h), on its Redis.
    worker_options.redis_url = !common.redis_url.empty()
                                   ? common.redis_url
                                   : taskq::bin::LocalRedisUrl(data_dir, redis_port);
    return Run(worker_options, nullptr, handler_flags, nullptr);
  }
  if (up->parsed()) {
    std::unique_ptr<taskq::bin::ManagedRedis> managed;
    if (common.redis_url.empty()) {
      managed = std::make_unique<taskq::bin::ManagedRedis>(taskq::bin::ManagedRedisOptions{
          std::filesystem::path(handler_flags.data_dir) / "redis", redis_port});
      if (auto s = managed->Start(); !s.ok()) return Fail(s);
      worker_options.redis_url = managed->url();
    } else {
      worker_options.redis_url = common.redis_url;
    }
    // Its workers in a child process: a handler that crashes takes only that one down.
    std::unique_ptr<taskq::bin::WorkerChild> workers;
    if (!worker_options.queues.empty()) {
      workers = std::make_unique<taskq::bin::WorkerChild>(worker_options.shutdown_grace +
                                                          std::chrono::seconds(10));
      if (auto s = workers->Start(); !s.ok()) return Fail(s);
    }
    taskq::WorkerOptions in_process = worker_options;
    in_process.queues.clear();
    int rc = Run(in_process, &api_flags, handler_flags, &scheduler_flags);
    if (workers) workers->Stop();  // it drains while Redis is still up
    if (managed) managed->Stop();
    return rc;
  }
  if (api->parsed()) {
    worker_options.redis_url = common.redis_url.empty() ? default_url : common.redis_url;
    worker_options.queues.clear();
    return Run(worker_options, &api_flags, handler_flags, nullptr);
  }
  if (worker->parsed()) {
    worker_options.redis_url = common.redis_url.empty() ? default_url : common.redis_url;
    return Run(worker_options, nullptr, handler_flags, nullptr);
  }
  if (scheduler->parsed()) {
    worker_options.redis_url = common.redis_url.empty() ? default_url : common.redis_url;
    worker_options.queues.clear();
    return Run(worker_options, nullptr, handler_flags, &scheduler_flags);
  }
  if (hash_password->parsed()) return taskq::bin::HashPasswordCommand();
  const std::string url = common.redis_url.empty() ? default_url : common.redis_url;
  const taskq::bin::Target target{url, common.key_prefix, common.output};
  if (enqueue->parsed()) {
    request.options.delay = std::chrono::milliseconds(delay_ms);
    for (auto [text, flag, ms] :
         {std::tuple(&run_at, "--run-at", &request.options.run_at_ms),
          std::tuple(&expires_at, "--expires-at", &request.options.expires_at_ms)}) {
      if (text->empty()) continue;
      *ms = taskq::ParseRfc3339Ms(*text);
      if (!*ms) {
        return Fail(
            taskq::InvalidArgument(flag, "must be an RFC 3339 time, e.g. 2026-12-24T18:00:00Z"));
      }
    }
    request.options.timeout = std::chrono::milliseconds(timeout_ms);
    if (backoff == "fixed") request.options.backoff.type = taskq::BackoffType::kFixed;
    if (backoff == "none") request.options.backoff.type = taskq::BackoffType::kNone;
    if (backoff_ms >= 0) request.options.backoff.delay = std::chrono::milliseconds(backoff_ms);
    if (!unique_key.empty() || enqueue->count("--unique-mode") > 0) {
      taskq::UniqueOptions unique;
      unique.key = unique_key;
      unique.mode = unique_mode == "ttl"        ? taskq::UniqueOptions::Mode::kTtl
                    : unique_mode == "debounce" ? taskq::UniqueOptions::Mode::kDebounce
                                                : taskq::UniqueOptions::Mode::kUntilCompleted;
      unique.ttl = std::chrono::milliseconds(unique_ttl_ms);
      request.options.unique = unique;
    }
    return taskq::bin::EnqueueCommand(target, request);
  }
  if (stats->parsed()) return taskq::bin::StatsCommand(target);
  if (schedules->parsed()) return taskq::bin::SchedulesCommand(target);
  if (jobs->parsed()) {
    return taskq::bin::JobsCommand(target, jobs_queue, jobs_state, jobs_limit, jobs_cursor);
  }
  if (retry->parsed()) return taskq::bin::RetryCommand(target, retry_id, retry_queue);
  if (limits->parsed()) return taskq::bin::LimitsCommand(target, limits_queue, limit_changes);
  if (shards->parsed()) return taskq::bin::ShardsCommand(target, shards_queue, shards_count);
  if (int rc = taskq::bin::RunActionCommand(actions, target); rc >= 0) return rc;
  if (int rc = taskq::bin::RunFlowCommand(flows, target); rc >= 0) return rc;
  if (int rc = taskq::bin::RunBatchCommand(batches, target); rc >= 0) return rc;
  if (config->parsed()) return taskq::bin::ConfigCommand(listing.Entries());
  return 0;
}
