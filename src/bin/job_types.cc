#include "bin/job_types.h"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace taskq::bin {

void RegisterBuiltinHandlers(Worker& worker, const HandlerFlags& flags) {
  handlers::EmailOptions email = flags.email;
  email.outbox_dir = (std::filesystem::path(flags.data_dir) / "outbox").string();
  if (email.smtp_url.empty()) {
    spdlog::info("email: no SMTP server configured (--smtp-url); messages go to the outbox {}",
                 std::filesystem::absolute(email.outbox_dir).string());
  } else {
    spdlog::info("email: delivering through {}", email.smtp_url);
  }
  worker.Register("email", handlers::MakeEmailHandler(std::move(email)));
}

std::vector<api::JobTypeInfo> KnownJobTypes(const std::vector<std::string>& extra) {
  std::vector<api::JobTypeInfo> types;
  types.push_back({"email", handlers::ValidateEmailData});
  for (const std::string& name : extra) {
    if (name == "*") return {};
    if (!name.empty()) types.push_back({name, nullptr});
  }
  return types;
}

}  // namespace taskq::bin
