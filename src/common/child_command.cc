#include "common/child_command.h"

#include <filesystem>
#include <fstream>
#include <system_error>

extern char** environ;

namespace taskq {

Result<OwnCommand> ReadOwnCommand() {
  OwnCommand command;
  std::error_code error;
  command.program = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) return Status(StatusCode::kUnavailable, "cannot read /proc/self/exe");
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  for (std::string argument; std::getline(in, argument, '\0');) command.argv.push_back(argument);
  if (command.argv.empty()) {
    return Status(StatusCode::kUnavailable, "cannot read /proc/self/cmdline");
  }
  return command;
}

std::vector<std::string> EnvironmentWith(std::string_view name, std::string_view value) {
  const std::string prefix = std::string(name) + "=";
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with(prefix)) environment.emplace_back(*e);
  }
  environment.push_back(prefix + std::string(value));
  return environment;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace taskq
