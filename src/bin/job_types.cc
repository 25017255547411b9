#include "bin/job_types.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>

#include "common/job_codec.h"
#include "common/text_list.h"
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
  return cidrs.empty() ? "none" : JoinList(cidrs);
}

using TypeQueues = std::map<std::string, std::vector<std::string>>;

// --type-queues of flags that passed ValidateHandlerFlags, parsed once per use.
TypeQueues ConfiguredQueues(const HandlerFlags& flags) {
  auto parsed = ParseTypeQueues(flags.type_queues);
  return parsed.ok() ? std::move(*parsed) : *ParseTypeQueues({});  // the built-in defaults
}

// The queues `type` runs from; empty: any.
std::vector<std::string> QueuesOf(const TypeQueues& configured, const std::string& type) {
  auto it = configured.find(type);
  return it == configured.end() ? std::vector<std::string>{} : it->second;
}

// "80,443" or "*" (any port: an empty list).
Result<std::vector<int>> ParsePorts(std::string_view text, const std::string& flag) {
  std::vector<int> ports;
  if (text == "*") return ports;
  for (std::string_view item : SplitList(text)) {
    int port = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), port);
    if (ec != std::errc() || end != item.data() + item.size() || port < 1 || port > 65535) {
      return InvalidArgument(flag,
                             "ports are numbers 1 to 65535, comma-separated, or * for any; "
                             "not '" +
                                 std::string(item) + "'");
    }
    ports.push_back(port);
  }
  if (ports.empty()) return InvalidArgument(flag, "names no port (* for any)");
  return ports;
}

// One "TYPE=ITEM+ITEM" entry of `flag`: the type (a valid name) and the items; "*" alone gives
// no items and `*any` true. `item` names the items in errors ("queue", "field").
struct TypeEntry {
  std::string type;
  std::vector<std::string> items;
  bool any = false;
};

Result<TypeEntry> ParseTypeEntry(const std::string& spec, const std::string& flag,
                                 const std::string& item) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos) {
    return InvalidArgument(flag,
                           "each entry is TYPE=" + item + "+" + item + ", not '" + spec + "'");
  }
  TypeEntry entry;
  entry.type = spec.substr(0, eq);
  if (Status s = ValidateName(flag, entry.type); !s.ok()) {
    return InvalidArgument(flag, "a type " + s.message());
  }
  const std::string_view list = std::string_view(spec).substr(eq + 1);
  entry.any = list == "*";
  if (!entry.any) {
    for (std::string_view one : SplitList(list, '+')) entry.items.emplace_back(one);
  }
  if (!entry.any && entry.items.empty()) {
    return InvalidArgument(flag, "'" + spec + "' names no " + item);
  }
  return entry;
}

HandlerOptions RunsFrom(const TypeQueues& configured, const std::string& type) {
  HandlerOptions options;
  options.queues = QueuesOf(configured, type);
  return options;
}

Handler MakeEmail(const HandlerFlags& flags) {
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
  return handlers::MakeEmailHandler(std::move(email));
}

Handler MakeWebhook(const HandlerFlags& flags) {
  handlers::WebhookOptions webhook = flags.webhook;
  if (auto ports = ParsePorts(flags.webhook_ports, "--webhook-ports"); ports.ok()) {
    webhook.allowed_ports = *ports;
  }
  spdlog::info("webhook: {}, {} redirect(s) followed, ports {}, private addresses allowed: {}",
               webhook.secret.empty() ? "unsigned (no --webhook-secret)" : "signed",
               webhook.max_redirects, flags.webhook_ports, JoinCidrs(webhook.allow_cidrs));
  return handlers::MakeWebhookHandler(std::move(webhook));
}

Handler MakeImageResize(const HandlerFlags& flags) {
  handlers::ImageResizeOptions image = flags.image;
  if (auto ports = ParsePorts(flags.image_ports, "--image-ports"); ports.ok()) {
    image.allowed_ports = *ports;
  }
  image.input_root = (std::filesystem::path(flags.data_dir) / "images").string();
  image.output_dir = (std::filesystem::path(flags.data_dir) / "images" / "out").string();
  spdlog::info(
      "image-resize: file sources below {}, outputs below {}, URL ports {}, private addresses "
      "allowed: {}",
      std::filesystem::absolute(image.input_root).string(),
      std::filesystem::absolute(image.output_dir).string(), flags.image_ports,
      JoinCidrs(image.allow_cidrs));
  return handlers::MakeImageResizeHandler(std::move(image));
}

Handler MakeExport(const HandlerFlags& flags) {
  const std::filesystem::path data_dir(flags.data_dir);
  handlers::ExportOptions exports;
  exports.exports_dir = (data_dir / "exports").string();
  exports.input_root = (data_dir / "imports").string();
  exports.redis_url = flags.redis_url;
  exports.key_prefix = flags.key_prefix;
  return handlers::MakeExportHandler(std::move(exports));
}

Handler MakeCleanup(const HandlerFlags& flags) {
  const std::filesystem::path data_dir(flags.data_dir);
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
  return handlers::MakeCleanupHandler(std::move(cleanup));
}

using DataValidator = std::function<Status(std::string_view data_json)>;

DataValidator ValidateEmail(const HandlerFlags& flags) {
  // As the workers' options decide: whether attachments by path are allowed, and where.
  return [email = flags.email](std::string_view data) {
    return handlers::ValidateEmailData(data, email);
  };
}

template <Status (*kValidate)(std::string_view)>
DataValidator Fixed(const HandlerFlags&) {
  return kValidate;
}

// The built-in job types: how a worker makes each handler from the flags, and how the API checks
// a job's data at enqueue time. Each runs from the queue of its own name unless --type-queues
// says otherwise.
struct BuiltinType {
  const char* name;
  Handler (*make)(const HandlerFlags&);
  DataValidator (*validator)(const HandlerFlags&);
  std::vector<std::string> secret_fields;  // redacted for non-admin callers
};

const BuiltinType kBuiltinTypes[] = {
    {"email", MakeEmail, ValidateEmail, {}},
    {"webhook", MakeWebhook, Fixed<handlers::ValidateWebhookData>, {"headers"}},
    {"image-resize", MakeImageResize, Fixed<handlers::ValidateImageResizeData>, {}},
    {"export", MakeExport, Fixed<handlers::ValidateExportData>, {}},
    {"cleanup", MakeCleanup, Fixed<handlers::ValidateCleanupData>, {}},
};

}  // namespace

Result<std::map<std::string, std::vector<std::string>>> ParseTypeQueues(
    const std::vector<std::string>& specs) {
  std::map<std::string, std::vector<std::string>> queues;
  for (const BuiltinType& type : kBuiltinTypes) queues[type.name] = {type.name};
  for (const std::string& spec : specs) {
    auto entry = ParseTypeEntry(spec, "--type-queues", "QUEUE");
    if (!entry.ok()) return entry.status();
    for (const std::string& queue : entry->items) {
      if (Status s = ValidateName("--type-queues", queue); !s.ok()) {
        return InvalidArgument("--type-queues", "a queue " + s.message());
      }
    }
    queues[entry->type] = std::move(entry->items);  // "*": empty, any queue
  }
  return queues;
}

void RegisterBuiltinHandlers(Worker& worker, const HandlerFlags& flags,
                             const std::string& callback_queue) {
  TypeQueues queues = ConfiguredQueues(flags);
  // Completion callbacks are webhook jobs in the callback queue: they must run there.
  std::vector<std::string>& webhook = queues["webhook"];
  if (!webhook.empty() &&
      std::find(webhook.begin(), webhook.end(), callback_queue) == webhook.end()) {
    webhook.push_back(callback_queue);
  }
  for (const BuiltinType& type : kBuiltinTypes) {
    worker.Register(type.name, type.make(flags), RunsFrom(queues, type.name));
  }
}

Status ValidateHandlerFlags(const HandlerFlags& flags) {
  if (auto queues = ParseTypeQueues(flags.type_queues); !queues.ok()) return queues.status();
  if (auto ports = ParsePorts(flags.webhook_ports, "--webhook-ports"); !ports.ok()) {
    return ports.status();
  }
  if (auto ports = ParsePorts(flags.image_ports, "--image-ports"); !ports.ok()) {
    return ports.status();
  }
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
                                            const HandlerFlags& handlers) {
  std::vector<api::JobTypeInfo> types;
  for (const BuiltinType& type : kBuiltinTypes) {
    types.push_back({type.name, type.validator(handlers), {}, type.secret_fields});
  }
  for (const std::string& name : extra) {
    if (!name.empty()) types.push_back({name, nullptr});
  }
  // With "*", a type named only in --type-queues is still held to its queues.
  const TypeQueues configured = ConfiguredQueues(handlers);
  if (std::find(extra.begin(), extra.end(), "*") != extra.end()) {
    for (const auto& [name, queues] : configured) {
      if (std::none_of(types.begin(), types.end(),
                       [&](const api::JobTypeInfo& t) { return t.name == name; })) {
        types.push_back({name, nullptr});
      }
    }
  }
  for (api::JobTypeInfo& type : types) type.queues = QueuesOf(configured, type.name);
  return types;
}

Status AddSecretFields(const std::vector<std::string>& specs,
                       std::vector<api::JobTypeInfo>* types) {
  const bool any_type = std::any_of(types->begin(), types->end(),
                                    [](const api::JobTypeInfo& t) { return t.name == "*"; });
  for (const std::string& spec : specs) {
    auto entry = ParseTypeEntry(spec, "--secret-fields", "FIELD");
    if (!entry.ok()) return entry.status();
    if (entry->any) return InvalidArgument("--secret-fields", "'" + spec + "' names no FIELD");
    const std::string& type = entry->type;
    std::vector<std::string>& fields = entry->items;
    for (const std::string& field : fields) {
      if (field.find('.') != std::string::npos) {
        return InvalidArgument("--secret-fields", "'" + field +
                                                      "' is not a top-level data field (no "
                                                      "dots; the whole field is redacted)");
      }
    }
    auto it = std::find_if(types->begin(), types->end(),
                           [&](const api::JobTypeInfo& t) { return t.name == type; });
    if (it == types->end() && !any_type) {
      return InvalidArgument(
          "--secret-fields",
          "names type '" + type + "', which the API does not accept (--job-types)");
    }
    if (it == types->end()) it = types->insert(types->end(), api::JobTypeInfo{type, nullptr});
    for (std::string& field : fields) {
      if (std::find(it->secret_fields.begin(), it->secret_fields.end(), field) ==
          it->secret_fields.end()) {
        it->secret_fields.push_back(std::move(field));
      }
    }
  }
  return Status::Ok();
}

}  // namespace taskq::bin
