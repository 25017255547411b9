// The command line's flows (docs/workflows.md), as the HTTP API has them: submit one (the body of
// POST /api/flows, from a file or standard input), show one, cancel one. Each prints one line of
// JSON and returns the exit code (0 done, 1 failed or refused, with the reason on stderr).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "bin/cli_commands.h"

namespace taskq::bin {

struct FlowCommands {
  CLI::App* submit = nullptr;
  CLI::App* show = nullptr;
  CLI::App* cancel = nullptr;
  // What they were given.
  std::string file;  // submit: a path, or "-" for standard input
  std::string id;    // show, cancel: "<queue>:<flow key>"
};

// Adds `flows` with its subcommands to `app`; their values land in `commands`.
void AddFlowCommands(CLI::App* app, FlowCommands* commands);

// Runs the one that was given; -1 when none was.
int RunFlowCommand(const FlowCommands& commands, const Target& target);

}  // namespace taskq::bin
