#include "bin/job_types.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/url_password.h"

namespace taskq::bin {
namespace {

// The flag an operator sets for a WebhookOptions field, for startup errors.
std::string WebhookFlag(const std::string& field) {
  if (field == "allow_cidrs") return "--webhook-allow";
  if (field == "max_redirects") return "--webhook-max-redirects";
  if (field == "secret") return "--webhook-secret";
  return "webhook " + field;
}

// "10.0.0.0/8, fd00::/8", or "none".
std::string JoinCidrs(const std::vector<std::string>& cidrs) {
  std::string joined;
  for (const std::string& cidr : cidrs) joined += (joined.empty() ? "" : ", ") + cidr;
  return joined.empty() ? "none" : joined;
}

}  // namespace

void RegisterBuiltinHandlers(Worker& worker, const HandlerFlags& flags) {
  handlers::EmailOptions email = flags.email;
  email.outbox_dir = (std::filesystem::path(flags.data_dir) / "outbox").string();
  if (email.smtp_url.empty()) {
    spdlog::info("email: no SMTP server configured (--smtp-url); messages go to the outbox {}",
                 std::filesystem::absolute(email.outbox_dir).string());
  } else {
    spdlog::info("email: delivering through {}", MaskUrlPassword(email.smtp_url));
  }
  if (email.attachments_dir.empty()) {
    spdlog::info("email: attachments by path refused (no --email-attachments-dir)");
  } else {
    spdlog::info("email: attachments by path from below {}",
                 std::filesystem::absolute(email.attachments_dir).string());
  }
  worker.Register("email", handlers::MakeEmailHandler(std::move(email)));

  const handlers::WebhookOptions& webhook = flags.webhook;
  spdlog::info("webhook: {}, {} redirect(s) followed, private addresses allowed: {}",
               webhook.secret.empty() ? "unsigned (no --webhook-secret)" : "signed",
               webhook.max_redirects, JoinCidrs(webhook.allow_cidrs));
  worker.Register("webhook", handlers::MakeWebhookHandler(webhook));

  handlers::ImageResizeOptions image = flags.image;
  image.input_root = (std::filesystem::path(flags.data_dir) / "images").string();
  image.output_dir = (std::filesystem::path(flags.data_dir) / "images" / "out").string();
  spdlog::info(
      "image-resize: file sources below {}, outputs below {}, private addresses allowed: {}",
      std::filesystem::absolute(image.input_root).string(),
      std::filesystem::absolute(image.output_dir).string(), JoinCidrs(image.allow_cidrs));
  worker.Register("image-resize", handlers::MakeImageResizeHandler(std::move(image)));

  const std::filesystem::path data_dir(flags.data_dir);
  handlers::ExportOptions exports;
  exports.exports_dir = (data_dir / "exports").string();
  exports.input_root = (data_dir / "imports").string();
  exports.redis_url = flags.redis_url;
  exports.key_prefix = flags.key_prefix;
  worker.Register("export", handlers::MakeExportHandler(std::move(exports)));

  handlers::CleanupOptions cleanup;
  cleanup.roots = flags.cleanup_roots;
  if (cleanup.roots.empty()) {
    cleanup.roots = {(data_dir / "outbox").string(), (data_dir / "exports").string()};
  }
  cleanup.redis_url = flags.redis_url;
  cleanup.key_prefix = flags.key_prefix;
  std::string roots;
  for (const std::string& root : cleanup.roots) {
    roots += (roots.empty() ? "" : ", ") + std::filesystem::absolute(root).string();
  }
  spdlog::info("cleanup: files may be deleted below {}", roots);
  worker.Register("cleanup", handlers::MakeCleanupHandler(std::move(cleanup)));
}

Status ValidateHandlerFlags(const HandlerFlags& flags) {
  if (Status s = handlers::ValidateWebhookOptions(flags.webhook); !s.ok()) {
    return InvalidArgument(WebhookFlag(s.field()), s.message());
  }
  if (Status s = handlers::ValidateImageResizeOptions(flags.image); !s.ok()) {
    return InvalidArgument(s.field() == "allow_cidrs" ? "--image-allow" : "image " + s.field(),
                           s.message());
  }
  return Status::Ok();
}

std::vector<api::JobTypeInfo> KnownJobTypes(const std::vector<std::string>& extra,
                                            const handlers::EmailOptions& email) {
  std::vector<api::JobTypeInfo> types;
  types.push_back({"email", [email](std::string_view data) {
                     return handlers::ValidateEmailData(data, email);
                   }});
  types.push_back({"webhook", handlers::ValidateWebhookData});
  types.push_back({"image-resize", handlers::ValidateImageResizeData});
  types.push_back({"export", handlers::ValidateExportData});
  types.push_back({"cleanup", handlers::ValidateCleanupData});
  for (const std::string& name : extra) {
    if (name == "*") return {};
    if (!name.empty()) types.push_back({name, nullptr});
  }
  return types;
}

}  // namespace taskq::bin
