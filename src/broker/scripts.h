// The Lua scripts of src/broker/lua/, embedded at build time (cmake/EmbedLua.cmake).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace taskq::broker {

struct ScriptSource {
  std::string_view name;  // file name without .lua
  std::string_view sha1;  // what EVALSHA takes
  std::string_view body;
};

const std::vector<ScriptSource>& EmbeddedScripts();

// The scripts the broker runs: the embedded ones, unless a test replaced some.
const std::vector<ScriptSource>& ActiveScripts();

// Aborts at start-up if a name is unknown: script names are fixed at build time.
const ScriptSource& ScriptNamed(std::string_view name);

// Tests only: runs `body` (whose SHA1 is `sha1`, as SCRIPT LOAD answers it) in place of the
// script `name` until RestoreScriptsForTesting. The model test uses it to show that it finds
// copies of the scripts with known defects put back. Not thread-safe: call it while no broker
// runs a script.
void ReplaceScriptForTesting(std::string_view name, std::string body, std::string sha1);
void RestoreScriptsForTesting();

}  // namespace taskq::broker
