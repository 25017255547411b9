// The command line's actions on queues and jobs, as the HTTP API has them: pause and resume a
// queue, clean it, retry its dead jobs; show, cancel, promote and remove a job. Each prints one
// line of JSON and returns the exit code (0 done, 1 failed or refused, with the reason on stderr).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "bin/cli_commands.h"

namespace taskq::bin {

struct ActionCommands {
  CLI::App* pause = nullptr;
  CLI::App* resume = nullptr;
  CLI::App* clean = nullptr;
  CLI::App* retry_dead = nullptr;
  CLI::App* show = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* promote = nullptr;
  CLI::App* remove = nullptr;
  // What they were given.
  bool all = false;  // pause, resume: every queue
  std::string queue;
  std::string id;
  std::string state = "completed";  // clean
  int64_t older_than_ms = 0;        // clean
  int32_t limit = 1000;             // clean, retry-dead
  std::vector<std::string> ids;     // retry-dead
};

// Adds the subcommands to `app`; their values land in `commands`.
void AddActionCommands(CLI::App* app, ActionCommands* commands);

// Runs the one that was given; -1 when none was.
int RunActionCommand(const ActionCommands& commands, const Target& target);

}  // namespace taskq::bin
