#include "bin/flags.h"

#include <cctype>

namespace taskq::bin {

void AddWorkerFlags(CLI::App* cmd, taskq::WorkerOptions* options, std::string* queues,
                    int64_t* lease_ms, int64_t* grace_ms) {
  cmd->add_option("--queues", *queues, "queues and concurrency, e.g. email=5,image-resize=2")
      ->envname("TASKQ_QUEUES");
  cmd->add_option("--lease-ms", *lease_ms, "lease of a claimed job")
      ->envname("TASKQ_LEASE_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  cmd->add_option("--shutdown-grace-ms", *grace_ms, "time running jobs get at shutdown")
      ->envname("TASKQ_SHUTDOWN_GRACE_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
  cmd->add_option("--max-stalls", options->max_stalls, "expired leases before a job is dead")
      ->envname("TASKQ_MAX_STALLS")
      ->check(CLI::Range(0, 1000));
}

// On workers, and on a separate API too, which refuses `path` attachments at enqueue time
// unless it is set.
void AddAttachmentsDirFlag(CLI::App* cmd, std::string* dir) {
  cmd->add_option("--email-attachments-dir", *dir,
                  "directory email attachments named by path are read from (default: none, "
                  "only base64 content)")
      ->envname("TASKQ_EMAIL_ATTACHMENTS_DIR");
}

void AddTypeQueuesFlag(CLI::App* cmd, std::vector<std::string>* type_queues) {
  cmd->add_option("--type-queues", *type_queues,
                  "TYPE=QUEUE+QUEUE, comma-separated: the queues a job type runs from (default: "
                  "a built-in type from its own queue only, other types from any; TYPE=* for any)")
      ->envname("TASKQ_TYPE_QUEUES")
      ->delimiter(',');
}

void AddHandlerFlags(CLI::App* cmd, taskq::bin::HandlerFlags* f, taskq::bin::SecretFiles* secrets) {
  cmd->add_option("--data-dir", f->data_dir,
                  "where taskq keeps files (managed Redis, outbox, exports, imports, images)")
      ->envname("TASKQ_DATA_DIR");
  cmd->add_option("--smtp-url", f->email.smtp_url,
                  "smtp://host:port or smtps://host:port (empty: email goes to DATA/outbox)")
      ->envname("TASKQ_SMTP_URL");
  cmd->add_option("--smtp-user", f->email.username, "SMTP user")->envname("TASKQ_SMTP_USER");
  cmd->add_option("--smtp-password", f->email.password, "SMTP password")
      ->envname("TASKQ_SMTP_PASSWORD");
  secrets->Add(cmd, "smtp-password", "TASKQ_SMTP_PASSWORD", &f->email.password);
  cmd->add_flag("--smtp-starttls", f->email.starttls, "require STARTTLS on smtp://")
      ->envname("TASKQ_SMTP_STARTTLS");
  cmd->add_option("--mail-from", f->email.default_from, "sender of emails that name none")
      ->envname("TASKQ_MAIL_FROM");
  AddAttachmentsDirFlag(cmd, &f->email.attachments_dir);
  AddTypeQueuesFlag(cmd, &f->type_queues);
  cmd->add_option("--webhook-secret", f->webhook.secret,
                  "signs webhook requests (Standard Webhooks): whsec_<base64> or raw bytes")
      ->envname("TASKQ_WEBHOOK_SECRET");
  secrets->Add(cmd, "webhook-secret", "TASKQ_WEBHOOK_SECRET", &f->webhook.secret);
  cmd->add_option("--webhook-allow", f->webhook.allow_cidrs,
                  "CIDRs webhooks may reach although private/loopback/link-local, comma-separated")
      ->envname("TASKQ_WEBHOOK_ALLOW")
      ->delimiter(',');
  cmd->add_option("--webhook-ports", f->webhook_ports,
                  "ports webhook URLs may use, comma-separated, or * for any")
      ->envname("TASKQ_WEBHOOK_PORTS")
      ->capture_default_str();
  cmd->add_option("--webhook-max-redirects", f->webhook.max_redirects,
                  "redirects a webhook follows, each checked again (0: none)")
      ->envname("TASKQ_WEBHOOK_MAX_REDIRECTS")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--cleanup-root", f->cleanup_roots,
                  "directory cleanup jobs may delete files below (repeatable; default "
                  "DATA/outbox and DATA/exports)")
      ->envname("TASKQ_CLEANUP_ROOTS")
      ->delimiter(',');
  // Separate from --webhook-allow: a host that may receive webhooks is not thereby one whose
  // files image jobs may fetch, and the reverse.
  cmd->add_option("--image-allow", f->image.allow_cidrs,
                  "CIDRs image-resize URL sources may reach although private/loopback/link-local, "
                  "comma-separated")
      ->envname("TASKQ_IMAGE_ALLOW")
      ->delimiter(',');
  cmd->add_option("--image-ports", f->image_ports,
                  "ports image-resize URL sources may use, comma-separated, or * for any")
      ->envname("TASKQ_IMAGE_PORTS")
      ->capture_default_str();
}

void AddSchedulerFlags(CLI::App* cmd, SchedulerFlags* f) {
  cmd->add_option("--scheduler-tick-ms", f->tick_ms,
                  "how often the scheduler looks for due schedules (and tries to lead)")
      ->envname("TASKQ_SCHEDULER_TICK_MS")
      ->check(CLI::Range(int64_t{10}, int64_t{60000}));
  cmd->add_option("--scheduler-lease-ms", f->lease_ms,
                  "the leading scheduler's lease; a dead leader is replaced within about this")
      ->envname("TASKQ_SCHEDULER_LEASE_MS")
      ->check(CLI::Range(int64_t{20}, int64_t{600000}));
  cmd->add_option("--scheduler-grace-ms", f->grace_ms,
                  "a fire time later than this is missed (the schedule's missed policy applies)")
      ->envname("TASKQ_SCHEDULER_GRACE_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{86400000}));
  cmd->add_option("--schedule", f->schedules,
                  "a schedule definition (JSON, as POST /api/schedules takes) created or updated "
                  "at start; repeatable")
      ->envname("TASKQ_SCHEDULES");
}

void AddApiFlags(CLI::App* cmd, taskq::bin::ApiFlags* f, taskq::bin::SecretFiles* secrets) {
  cmd->add_option("--listen", f->listen, "HOST:PORT of the HTTP API")->envname("TASKQ_API_LISTEN");
  cmd->add_option("--dashboard-listen", f->dashboard_listen,
                  "HOST:PORT of the dashboard (empty: none)")
      ->envname("TASKQ_DASHBOARD_LISTEN");
  cmd->add_option("--dashboard-base-path", f->dashboard_base_path, "URL path of the dashboard")
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
  cmd->add_option("--dashboard-user", f->dashboard_users,
                  "NAME:ROLE:HASH, role admin|read, HASH from `taskq hash-password`; repeatable, "
                  "or comma-separated in TASKQ_DASHBOARD_USERS")
      ->envname("TASKQ_DASHBOARD_USERS");
  secrets->AddList(cmd, "dashboard-user", "TASKQ_DASHBOARD_USERS", &f->dashboard_users);
  cmd->add_option("--api-key", f->api_keys,
                  "SCOPE:TOKEN or SCOPE:sha256:HEX, scope read|enqueue|admin, optionally limited "
                  "to job types (enqueue/email+webhook:TOKEN); repeatable, or comma-separated in "
                  "TASKQ_API_KEYS")
      ->envname("TASKQ_API_KEYS");
  secrets->AddList(cmd, "api-key", "TASKQ_API_KEYS", &f->api_keys);
  cmd->add_option("--job-types", f->job_types,
                  "job types accepted besides the built-in ones (custom handlers); * for any")
      ->envname("TASKQ_JOB_TYPES")
      ->delimiter(',');
  cmd->add_option("--secret-fields", f->secret_fields,
                  "TYPE=FIELD+FIELD, comma-separated: data fields shown only to the admin scope "
                  "(webhook headers always are)")
      ->envname("TASKQ_SECRET_FIELDS")
      ->delimiter(',');
  cmd->add_option("--admin-only-types", f->admin_only_types,
                  "job types only admin keys may enqueue or schedule, comma-separated (\"\": "
                  "none)")
      ->envname("TASKQ_ADMIN_ONLY_TYPES")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--insecure", f->insecure, "allow listening beyond loopback without API keys")
      ->envname("TASKQ_INSECURE");
  cmd->add_option("--allowed-hosts", f->allowed_hosts,
                  "Host names served without credentials besides loopback names and the listen "
                  "address, comma-separated")
      ->envname("TASKQ_ALLOWED_HOSTS")
      ->delimiter(',');
  cmd->add_option("--api-threads", f->io_threads, "HTTP I/O threads")
      ->envname("TASKQ_API_THREADS")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--api-backend-threads", f->backend_threads,
                  "threads (and Redis connections) for reads and operator actions")
      ->envname("TASKQ_API_BACKEND_THREADS")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-body-bytes", f->max_body_bytes,
                  "largest request body (but a bulk enqueue's)")
      ->envname("TASKQ_MAX_BODY_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  cmd->add_option("--max-bulk-body-bytes", f->max_bulk_body_bytes,
                  "largest POST /api/jobs/bulk body, read once the API key is checked")
      ->envname("TASKQ_MAX_BULK_BODY_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  cmd->add_option("--max-header-bytes", f->max_header_bytes, "largest request header block")
      ->envname("TASKQ_MAX_HEADER_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 20));
  cmd->add_option("--max-bulk", f->max_bulk, "most jobs in one POST /api/jobs/bulk")
      ->envname("TASKQ_MAX_BULK")
      ->check(CLI::Range(size_t{1}, taskq::kMaxBulkJobs));
  cmd->add_option("--max-json-depth", f->max_json_depth, "deepest nesting of request JSON")
      ->envname("TASKQ_MAX_JSON_DEPTH")
      ->check(CLI::Range(2, 256));
  cmd->add_option("--max-connections", f->max_connections, "open HTTP connections at most")
      ->envname("TASKQ_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections-per-client", f->max_connections_per_client,
                  "open HTTP connections from one client address at most")
      ->envname("TASKQ_MAX_CONNECTIONS_PER_CLIENT")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--header-timeout-ms", f->header_timeout_ms,
                  "a request's headers must arrive within this; also the keep-alive idle limit")
      ->envname("TASKQ_HEADER_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  cmd->add_option("--request-timeout-ms", f->request_timeout_ms,
                  "a request's body must arrive within this once its headers are in")
      ->envname("TASKQ_REQUEST_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  cmd->add_option("--max-wait-ms", f->max_wait_ms, "cap of GET /api/jobs/{id}/wait")
      ->envname("TASKQ_MAX_WAIT_MS")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}));
}

}  // namespace taskq::bin
