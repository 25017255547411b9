// The command line's batches (docs/workflows.md, "Batches"), as the HTTP API has them: create
// one or add jobs to one (the body of POST /api/batches or /api/batches/{id}/jobs, from a file or
// standard input), close, show or cancel one. Each prints one line of JSON and returns the exit
// code (0 done, 1 failed or refused, with the reason on stderr).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "bin/cli_commands.h"

namespace taskq::bin {

struct BatchCommands {
  CLI::App* create = nullptr;
  CLI::App* add = nullptr;
  CLI::App* close = nullptr;
  CLI::App* show = nullptr;
  CLI::App* cancel = nullptr;
  // What they were given.
  std::string file;  // create, add: a path, or "-" for standard input
  std::string id;    // the others: "<queue>:<batch key>"
};

// Adds `batches` with its subcommands to `app`; their values land in `commands`.
void AddBatchCommands(CLI::App* app, BatchCommands* commands);

// Runs the one that was given; -1 when none was.
int RunBatchCommand(const BatchCommands& commands, const Target& target);

}  // namespace taskq::bin
