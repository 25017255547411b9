// The command-line flags of each role (and their TASKQ_* environment variables), declared once
// and added to every subcommand that takes them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "bin/api_runner.h"
#include "bin/flag_listing.h"
#include "bin/job_types.h"
#include "bin/secret_files.h"
#include "taskq/worker.h"

namespace taskq::bin {

struct SchedulerFlags {
  int64_t tick_ms = 1000;
  int64_t lease_ms = 2000;
  int64_t grace_ms = 30000;
  // Schedule definitions (JSON, docs/http-api.md) created or updated at start; schedules made
  // through the API are left alone.
  std::vector<std::string> schedules;
};

// Each adds its flags to `cmd`; with a listing, also lists them for `taskq config`.
// The worker flags that are not WorkerOptions fields as they stand (a list to parse, durations
// in milliseconds).
struct WorkerFlags {
  std::string queues = "email=5,image-resize=2:process,export=1,webhook=10,cleanup=1";
  int64_t lease_ms = 30000;
  int64_t grace_ms = 20000;
  int64_t kill_grace_ms = 1000;
  int64_t handler_memory_mb = 1024;
  int64_t history_bucket_ms = 60000;
  std::string queue_shards;  // "email=3,webhook=2" (ParseQueueShards); empty: none
};
void AddWorkerFlags(CLI::App* cmd, taskq::WorkerOptions* options, WorkerFlags* flags,
                    FlagListing* listing = nullptr);
void AddAttachmentsDirFlag(CLI::App* cmd, std::string* dir, FlagListing* listing = nullptr);
void AddTypeQueuesFlag(CLI::App* cmd, std::vector<std::string>* type_queues,
                       FlagListing* listing = nullptr);
void AddHandlerFlags(CLI::App* cmd, taskq::bin::HandlerFlags* f, taskq::bin::SecretFiles* secrets,
                     FlagListing* listing = nullptr);
void AddSchedulerFlags(CLI::App* cmd, SchedulerFlags* f, FlagListing* listing = nullptr);
void AddApiFlags(CLI::App* cmd, taskq::bin::ApiFlags* f, taskq::bin::SecretFiles* secrets,
                 FlagListing* listing = nullptr);

}  // namespace taskq::bin
