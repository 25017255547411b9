#include "bin/secret_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/unique_fd.h"

namespace taskq::bin {
namespace {

constexpr size_t kMaxSecretFileBytes = 64 << 10;

}  // namespace

Result<std::string> ReadSecretFile(const std::string& path, const std::string& flag) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return InvalidArgument(flag,
                           "cannot open " + path + ": " + std::generic_category().message(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return InvalidArgument(flag, path + " is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > kMaxSecretFileBytes) {
    return InvalidArgument(flag, path + " is larger than 64 KiB");
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t filled = 0;
  while (filled < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + filled, content.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return InvalidArgument(flag,
                             "cannot read " + path + ": " + std::generic_category().message(errno));
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  content.resize(filled);
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  if (content.empty()) return InvalidArgument(flag, path + " is empty");
  return content;
}

void SecretFiles::Add(CLI::App* cmd, const std::string& name, const std::string& env,
                      std::string* value) {
  auto entry = std::make_unique<Entry>();
  entry->cmd = cmd;
  entry->flag = "--" + name + "-file";
  entry->value = value;
  cmd->add_option(entry->flag, entry->path, "file holding --" + name + " (e.g. a Docker secret)")
      ->envname(env + "_FILE");
  entries_.push_back(std::move(entry));
}

void SecretFiles::AddList(CLI::App* cmd, const std::string& name, const std::string& env,
                          std::vector<std::string>* values) {
  auto entry = std::make_unique<Entry>();
  entry->cmd = cmd;
  entry->flag = "--" + name + "-file";
  entry->values = values;
  cmd->add_option(entry->flag, entry->path,
                  "file holding --" + name + " values, one per line (e.g. a Docker secret)")
      ->envname(env + "_FILE");
  entries_.push_back(std::move(entry));
}

Status SecretFiles::Load() {
  for (const auto& entry : entries_) {
    // CLI11 fills an option from its environment variable even when its subcommand did not
    // run; one flag shared by several subcommands must be read once.
    if (entry->path.empty() || !entry->cmd->parsed()) continue;
    const std::string plain = entry->flag.substr(0, entry->flag.size() - 5);
    if ((entry->value && !entry->value->empty()) || (entry->values && !entry->values->empty())) {
      return InvalidArgument(entry->flag, "is given together with " + plain + "; give one");
    }
    Result<std::string> content = ReadSecretFile(entry->path, entry->flag);
    if (!content.ok()) return content.status();
    if (entry->value) {
      *entry->value = std::move(*content);
      continue;
    }
    std::string item;
    for (const char c : *content + "\n") {
      if (c == '\n' || c == ',') {
        while (!item.empty() && (item.back() == '\r' || item.back() == ' ')) item.pop_back();
        if (!item.empty()) entry->values->push_back(item);
        item.clear();
      } else if (!(item.empty() && c == ' ')) {
        item.push_back(c);
      }
    }
  }
  return Status::Ok();
}

}  // namespace taskq::bin
