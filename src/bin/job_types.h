// The built-in job types in one place: their handlers (for workers) and their data validators
// (for the API's 422 at enqueue time). A type is added here when its handler lands.
#pragma once

#include <string>
#include <vector>

#include "api/api_service.h"
#include "handlers/cleanup.h"
#include "handlers/email.h"
#include "handlers/export.h"
#include "handlers/image_resize.h"
#include "handlers/webhook.h"
#include "taskq/worker.h"

namespace taskq::bin {

struct HandlerFlags {
  std::string data_dir = "data";  // outbox (email without SMTP) and other files live below it
  handlers::EmailOptions email;   // email.outbox_dir is set from data_dir
  handlers::WebhookOptions webhook;
  handlers::ImageResizeOptions image;  // image.input_root and output_dir are set from data_dir
  // Directories cleanup jobs may delete files in. Empty: <data_dir>/outbox and <data_dir>/exports.
  std::vector<std::string> cleanup_roots;
  // The worker's Redis: export reads job history and cleanup removes jobs through an Inspector.
  std::string redis_url;
  std::string key_prefix = "taskq";
};

// Checks what RegisterBuiltinHandlers would otherwise turn into failed jobs (a bad webhook or
// image CIDR, a bad webhook secret), so the process refuses to start instead.
Status ValidateHandlerFlags(const HandlerFlags& flags);
// Email goes to <data_dir>/outbox when no SMTP URL is configured; exports to <data_dir>/exports,
// reading files from <data_dir>/imports; image-resize reads file sources below <data_dir>/images
// and writes below <data_dir>/images/out.
void RegisterBuiltinHandlers(Worker& worker, const HandlerFlags& flags);
// Built-in types with their validators, plus `extra` types (custom handlers) accepted as they are.
// "*" in `extra` accepts any type: returns an empty list, which the API reads as "any". `email`
// validates as the workers' options do (whether attachments by path are allowed, and where).
std::vector<api::JobTypeInfo> KnownJobTypes(const std::vector<std::string>& extra,
                                            const handlers::EmailOptions& email);

}  // namespace taskq::bin
