// Secrets from files (Docker secrets, systemd credentials, a Kubernetes volume): each secret flag
// --NAME has a twin --NAME-file PATH (env VAR_FILE) whose content becomes its value, so that the
// secret appears on no command line (/proc/PID/cmdline is readable by every local user) and in
// no environment.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "taskq/status.h"

namespace taskq::bin {

class SecretFiles {
 public:
  // Adds --NAME-file (and env_FILE) to `cmd` for the secret flag --NAME whose value is *value.
  void Add(CLI::App* cmd, const std::string& name, const std::string& env, std::string* value);
  // The same for a list flag: the file holds one item per line (or comma-separated).
  void AddList(CLI::App* cmd, const std::string& name, const std::string& env,
               std::vector<std::string>* values);
  // After parsing: reads every file given to a command that ran into its flag. Errors name the
  // flag: a file that cannot be read, is not a regular file, is over 64 KiB or empty; a secret
  // given both ways.
  Status Load();

 private:
  struct Entry {
    CLI::App* cmd = nullptr;  // the (sub)command the flag belongs to
    std::string flag;         // "--smtp-password-file"
    std::string path;
    std::string* value = nullptr;
    std::vector<std::string>* values = nullptr;
  };
  std::vector<std::unique_ptr<Entry>> entries_;  // stable addresses: CLI11 writes into them
};

// The file's content without trailing CR and LF characters. Errors name `flag`.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& flag);

}  // namespace taskq::bin
