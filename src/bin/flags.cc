#include "bin/flags.h"

#include <cctype>

namespace taskq::bin {

void AddWorkerFlags(CLI::App* cmd, taskq::WorkerOptions* options, WorkerFlags* flags,
                    FlagListing* listing) {
  FlagAdder add(cmd, listing);
  add.Option("--queues", flags->queues,
             "queues, concurrency and isolation, e.g. email=5,image-resize=2:process (handlers "
             "in processes of their own; default :thread)")
      ->envname("TASKQ_QUEUES");
  add.Option("--queue-shards", flags->queue_shards,
             "queues spread over shards at start, e.g. webhook=3 (docs/architecture.md, "
             "\"Sharded queues\"); a queue whose jobs are waiting keeps its shards, with a warning")
      ->envname("TASKQ_QUEUE_SHARDS");
  add.Option("--lease-ms", flags->lease_ms, "lease of a claimed job")
      ->envname("TASKQ_LEASE_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  add.Option("--shutdown-grace-ms", flags->grace_ms, "time running jobs get at shutdown")
      ->envname("TASKQ_SHUTDOWN_GRACE_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  add.Option("--callback-queue", options->callback_queue,
             "queue the webhook jobs of completion callbacks (callback_url) go to; a worker "
             "must run the webhook type from it")
      ->envname("TASKQ_CALLBACK_QUEUE");
  add.Option("--history-bucket-ms", flags->history_bucket_ms,
             "every worker records one sample of each queue's counters per bucket (the "
             "dashboard's charts); 0: none. Every worker should use the same")
      ->envname("TASKQ_HISTORY_BUCKET_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  add.Option("--max-stalls", options->max_stalls, "expired leases before a job is dead")
      ->envname("TASKQ_MAX_STALLS")
      ->check(CLI::Range(0, 1000));
  add.Option("--handler-memory-mb", flags->handler_memory_mb,
             "memory cap of each handler process of a :process queue, in MiB; 0: none")
      ->envname("TASKQ_HANDLER_MEMORY_MB")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  add.Option("--handler-cgroup", options->handler_cgroup,
             "where the handler memory cap comes from: auto (a cgroup v2 memory.max when this "
             "process's cgroup lets it create cgroups with the memory controller, else "
             "RLIMIT_DATA), off (RLIMIT_DATA), or a delegated cgroup v2 directory to use")
      ->envname("TASKQ_HANDLER_CGROUP");
  add.Option("--handler-kill-grace-ms", flags->kill_grace_ms,
             "how long a :process queue's handler may run past its timeout or a stop request "
             "before its process is stopped")
      ->envname("TASKQ_HANDLER_KILL_GRACE_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
}

// On workers, and on a separate API too, which refuses `path` attachments at enqueue time
// unless it is set.
void AddAttachmentsDirFlag(CLI::App* cmd, std::string* dir, FlagListing* listing) {
  FlagAdder add(cmd, listing);
  add.Option("--email-attachments-dir", *dir,
             "directory email attachments named by path are read from (default: none, "
             "only base64 content)")
      ->envname("TASKQ_EMAIL_ATTACHMENTS_DIR");
}

void AddTypeQueuesFlag(CLI::App* cmd, std::vector<std::string>* type_queues, FlagListing* listing) {
  FlagAdder add(cmd, listing);
  add.Option("--type-queues", *type_queues,
             "TYPE=QUEUE+QUEUE, comma-separated: the queues a job type runs from (default: "
             "a built-in type from its own queue only, other types from any; TYPE=* for any)")
      ->envname("TASKQ_TYPE_QUEUES")
      ->delimiter(',');
}

void AddHandlerFlags(CLI::App* cmd, taskq::bin::HandlerFlags* f, taskq::bin::SecretFiles* secrets,
                     FlagListing* listing) {
  FlagAdder add(cmd, listing);
  add.Option("--data-dir", f->data_dir,
             "where taskq keeps files (managed Redis, outbox, exports, imports, images)")
      ->envname("TASKQ_DATA_DIR");
  add.Option("--smtp-url", f->email.smtp_url,
             "smtp://host:port or smtps://host:port (empty: email goes to DATA/outbox)",
             Shown::kUrl)
      ->envname("TASKQ_SMTP_URL");
  add.Option("--smtp-user", f->email.username, "SMTP user")->envname("TASKQ_SMTP_USER");
  add.Option("--smtp-password", f->email.password, "SMTP password", Shown::kSecret)
      ->envname("TASKQ_SMTP_PASSWORD");
  secrets->Add(cmd, "smtp-password", "TASKQ_SMTP_PASSWORD", &f->email.password);
  add.Switch("--smtp-starttls", f->email.starttls, "require STARTTLS on smtp://")
      ->envname("TASKQ_SMTP_STARTTLS");
  add.Option("--mail-from", f->email.default_from, "sender of emails that name none")
      ->envname("TASKQ_MAIL_FROM");
  AddAttachmentsDirFlag(cmd, &f->email.attachments_dir, listing);
  AddTypeQueuesFlag(cmd, &f->type_queues, listing);
  add.Option("--webhook-secret", f->webhook.secret,
             "signs webhook requests (Standard Webhooks): whsec_<base64> or raw bytes",
             Shown::kSecret)
      ->envname("TASKQ_WEBHOOK_SECRET");
  secrets->Add(cmd, "webhook-secret", "TASKQ_WEBHOOK_SECRET", &f->webhook.secret);
  add.Option("--webhook-allow", f->webhook.allow_cidrs,
             "CIDRs webhooks may reach although private/loopback/link-local, comma-separated")
      ->envname("TASKQ_WEBHOOK_ALLOW")
      ->delimiter(',');
  add.Option("--webhook-ports", f->webhook_ports,
             "ports webhook URLs may use, comma-separated, or * for any")
      ->envname("TASKQ_WEBHOOK_PORTS")
      ->capture_default_str();
  add.Option("--webhook-max-redirects", f->webhook.max_redirects,
             "redirects a webhook follows, each checked again (0: none)")
      ->envname("TASKQ_WEBHOOK_MAX_REDIRECTS")
      ->check(CLI::Range(0, 20));
  add.Option("--cleanup-root", f->cleanup_roots,
             "directory cleanup jobs may delete files below (repeatable; default "
             "DATA/outbox and DATA/exports)")
      ->envname("TASKQ_CLEANUP_ROOTS")
      ->delimiter(',');
  // Separate from --webhook-allow: a host that may receive webhooks is not thereby one whose
  // files image jobs may fetch, and the reverse.
  add.Option("--image-allow", f->image.allow_cidrs,
             "CIDRs image-resize URL sources may reach although private/loopback/link-local, "
             "comma-separated")
      ->envname("TASKQ_IMAGE_ALLOW")
      ->delimiter(',');
  add.Option("--image-ports", f->image_ports,
             "ports image-resize URL sources may use, comma-separated, or * for any")
      ->envname("TASKQ_IMAGE_PORTS")
      ->capture_default_str();
}

void AddSchedulerFlags(CLI::App* cmd, SchedulerFlags* f, FlagListing* listing) {
  FlagAdder add(cmd, listing);
  add.Option("--scheduler-tick-ms", f->tick_ms,
             "how often the scheduler looks for due schedules (and tries to lead)")
      ->envname("TASKQ_SCHEDULER_TICK_MS")
      ->check(CLI::Range(int64_t{10}, int64_t{60000}));
  add.Option("--scheduler-lease-ms", f->lease_ms,
             "the leading scheduler's lease; a dead leader is replaced within about this")
      ->envname("TASKQ_SCHEDULER_LEASE_MS")
      ->check(CLI::Range(int64_t{20}, int64_t{600000}));
  add.Option("--scheduler-grace-ms", f->grace_ms,
             "a fire time later than this is missed (the schedule's missed policy applies)")
      ->envname("TASKQ_SCHEDULER_GRACE_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{86400000}));
  add.Option("--schedule", f->schedules,
             "a schedule definition (JSON, as POST /api/schedules takes) created or updated "
             "at start; repeatable",
             Shown::kLiteral)
      ->envname("TASKQ_SCHEDULES");
}

void AddApiFlags(CLI::App* cmd, taskq::bin::ApiFlags* f, taskq::bin::SecretFiles* secrets,
                 FlagListing* listing) {
  FlagAdder add(cmd, listing);
  add.Option("--listen", f->listen, "HOST:PORT of the HTTP API")->envname("TASKQ_API_LISTEN");
  add.Option("--dashboard-listen", f->dashboard_listen, "HOST:PORT of the dashboard (empty: none)")
      ->envname("TASKQ_DASHBOARD_LISTEN");
  add.Option("--dashboard-base-path", f->dashboard_base_path, "URL path of the dashboard")
      ->envname("TASKQ_DASHBOARD_BASE_PATH")
      ->check([](const std::string& path) -> std::string {
        if (path.empty() || path.front() != '/') return "must start with /";
        if (path.size() > 1 && path.back() == '/') return "must not end with / (except / itself)";
        for (char c : path) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '-' && c != '_' &&
              c != '.') {
            return "may hold only letters, digits and / - _ .";
          }
        }
        return "";
      });
  add.Option("--dashboard-user", f->dashboard_users,
             "NAME:ROLE:HASH, role admin|read, HASH from `taskq hash-password`; repeatable, "
             "or comma-separated in TASKQ_DASHBOARD_USERS",
             Shown::kSecret)
      ->envname("TASKQ_DASHBOARD_USERS");
  secrets->AddList(cmd, "dashboard-user", "TASKQ_DASHBOARD_USERS", &f->dashboard_users);
  add.Option("--api-key", f->api_keys,
             "SCOPE:TOKEN or SCOPE:sha256:HEX, scope read|enqueue|admin, optionally limited "
             "to job types (enqueue/email+webhook:TOKEN); repeatable, or comma-separated in "
             "TASKQ_API_KEYS",
             Shown::kSecret)
      ->envname("TASKQ_API_KEYS");
  secrets->AddList(cmd, "api-key", "TASKQ_API_KEYS", &f->api_keys);
  add.Option("--job-types", f->job_types,
             "job types accepted besides the built-in ones (custom handlers); * for any")
      ->envname("TASKQ_JOB_TYPES")
      ->delimiter(',');
  add.Option("--secret-fields", f->secret_fields,
             "TYPE=FIELD+FIELD, comma-separated: data fields shown only to the admin scope "
             "(webhook headers always are)")
      ->envname("TASKQ_SECRET_FIELDS")
      ->delimiter(',');
  add.Option("--admin-only-types", f->admin_only_types,
             "job types only admin keys may enqueue or schedule, comma-separated (\"\": "
             "none)")
      ->envname("TASKQ_ADMIN_ONLY_TYPES")
      ->delimiter(',')
      ->capture_default_str();
  add.Switch("--insecure", f->insecure, "allow listening beyond loopback without API keys")
      ->envname("TASKQ_INSECURE");
  add.Option("--allowed-hosts", f->allowed_hosts,
             "Host names served without credentials besides loopback names and the listen "
             "address, comma-separated")
      ->envname("TASKQ_ALLOWED_HOSTS")
      ->delimiter(',');
  add.Option("--api-threads", f->io_threads, "HTTP I/O threads")
      ->envname("TASKQ_API_THREADS")
      ->check(CLI::Range(1, 64));
  add.Option("--api-backend-threads", f->backend_threads,
             "threads (and Redis connections) for reads and operator actions")
      ->envname("TASKQ_API_BACKEND_THREADS")
      ->check(CLI::Range(1, 256));
  add.Option("--max-body-bytes", f->max_body_bytes,
             "largest request body (but a bulk enqueue's, a flow's or a batch's)")
      ->envname("TASKQ_MAX_BODY_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  add.Option("--max-bulk-body-bytes", f->max_bulk_body_bytes,
             "largest POST /api/jobs/bulk, /api/flows or /api/batches(/{id}/jobs) body, read once "
             "the API key is checked")
      ->envname("TASKQ_MAX_BULK_BODY_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  add.Option("--max-header-bytes", f->max_header_bytes, "largest request header block")
      ->envname("TASKQ_MAX_HEADER_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 20));
  add.Option("--max-bulk", f->max_bulk, "most jobs in one POST /api/jobs/bulk")
      ->envname("TASKQ_MAX_BULK")
      ->check(CLI::Range(size_t{1}, taskq::kMaxBulkJobs));
  add.Option("--max-flow-jobs", f->max_flow_jobs, "most jobs in one flow (POST /api/flows)")
      ->envname("TASKQ_MAX_FLOW_JOBS")
      ->check(CLI::Range(size_t{1}, taskq::kMaxBulkJobs));
  add.Option("--max-batch-jobs", f->max_batch_jobs,
             "most jobs in one batch request or addition (POST /api/batches, "
             "/api/batches/{id}/jobs); each is one script call")
      ->envname("TASKQ_MAX_BATCH_JOBS")
      ->check(CLI::Range(size_t{1}, taskq::kMaxBatchJobs));
  add.Option("--max-batch-total", f->max_batch_total,
             "most jobs in one batch over all its additions, checked before each addition "
             "(best-effort: additions at the same moment may pass it together)")
      ->envname("TASKQ_MAX_BATCH_TOTAL")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  add.Option("--max-json-depth", f->max_json_depth, "deepest nesting of request JSON")
      ->envname("TASKQ_MAX_JSON_DEPTH")
      ->check(CLI::Range(2, 256));
  add.Option("--max-connections", f->max_connections, "open HTTP connections at most")
      ->envname("TASKQ_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000));
  add.Option("--max-connections-per-client", f->max_connections_per_client,
             "open HTTP connections from one client address at most")
      ->envname("TASKQ_MAX_CONNECTIONS_PER_CLIENT")
      ->check(CLI::Range(1, 1000000));
  add.Option("--header-timeout-ms", f->header_timeout_ms,
             "a request's headers must arrive within this; also the keep-alive idle limit")
      ->envname("TASKQ_HEADER_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  add.Option("--request-timeout-ms", f->request_timeout_ms,
             "a request's body must arrive within this once its headers are in")
      ->envname("TASKQ_REQUEST_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  add.Option("--max-wait-ms", f->max_wait_ms, "cap of GET /api/jobs/{id}/wait")
      ->envname("TASKQ_MAX_WAIT_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  add.Option("--alert-dead-window-min", f->alert_dead_window_min,
             "GET /api/alerts: jobs gone dead within this many minutes raise an alert")
      ->envname("TASKQ_ALERT_DEAD_WINDOW_MIN")
      ->check(CLI::Range(int64_t{1}, int64_t{1440}));
  add.Option("--alert-oldest-waiting-s", f->alert_oldest_waiting_s,
             "GET /api/alerts: a queue whose oldest waiting job waited longer raises an alert")
      ->envname("TASKQ_ALERT_OLDEST_WAITING_S")
      ->check(CLI::Range(int64_t{1}, int64_t{604800}));
  add.Option("--alert-schedule-late-s", f->alert_schedule_late_s,
             "GET /api/alerts: a schedule this far behind its next fire time raises an alert")
      ->envname("TASKQ_ALERT_SCHEDULE_LATE_S")
      ->check(CLI::Range(int64_t{1}, int64_t{604800}));
}

}  // namespace taskq::bin
