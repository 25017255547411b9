// The built-in job types in one place: their handlers (for workers) and their data validators
// (for the API's 422 at enqueue time), read from one table (kBuiltinTypes in job_types.cc), where
// a type is added when its handler lands.
#pragma once

#include <map>
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
  // Ports webhook URLs and image-resize URL sources may use: "80,443", or "*" for any.
  std::string webhook_ports = "80,443";
  std::string image_ports = "80,443";
  // "TYPE=QUEUE+QUEUE" entries (--type-queues): the queues a type runs from. A built-in type not
  // named runs from the queue of its own name only; a custom type from any. "TYPE=*": any queue.
  std::vector<std::string> type_queues;
  // The worker's Redis: export reads job history and cleanup removes jobs through an Inspector.
  std::string redis_url;
  std::string key_prefix = "taskq";
};

// The queues each type named in `specs` (HandlerFlags::type_queues) runs from, with the
// built-in types' defaults (their own queue) for those not named; an empty list: any queue.
Result<std::map<std::string, std::vector<std::string>>> ParseTypeQueues(
    const std::vector<std::string>& specs);

// Checks what RegisterBuiltinHandlers would otherwise turn into failed jobs (a bad webhook or
// image CIDR, a bad webhook secret), so the process refuses to start instead.
Status ValidateHandlerFlags(const HandlerFlags& flags);
// Email goes to <data_dir>/outbox when no SMTP URL is configured; exports to <data_dir>/exports,
// reading files from <data_dir>/imports; image-resize reads file sources below <data_dir>/images
// and writes below <data_dir>/images/out. `webhook` also runs from `callback_queue` (where the
// worker relays completion callbacks), unless --type-queues lets it run from any queue.
void RegisterBuiltinHandlers(Worker& worker, const HandlerFlags& flags,
                             const std::string& callback_queue);
// Built-in types with their validators, plus `extra` types (custom handlers) accepted as they are,
// each with the queues it may go to (`handlers.type_queues`). "*" in `extra` accepts any other
// type too. `email` validates as the workers' options do (whether attachments by path are
// allowed, and where). `handlers` must have passed ValidateHandlerFlags.
std::vector<api::JobTypeInfo> KnownJobTypes(const std::vector<std::string>& extra,
                                            const HandlerFlags& handlers);
// Adds "TYPE=FIELD+FIELD" entries (--secret-fields) to the secret fields of `types` (webhook's
// "headers" are secret already). A type the API does not accept is an error naming the flag.
Status AddSecretFields(const std::vector<std::string>& specs, std::vector<api::JobTypeInfo>* types);

}  // namespace taskq::bin
