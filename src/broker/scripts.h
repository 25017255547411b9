// The Lua scripts of src/broker/lua/, embedded at build time (cmake/EmbedLua.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace taskq::broker {

struct ScriptSource {
  std::string_view name;  // file name without .lua
  std::string_view sha1;  // what EVALSHA takes
  std::string_view body;
};

const std::vector<ScriptSource>& EmbeddedScripts();

// Aborts at start-up if a name is unknown: script names are fixed at build time.
const ScriptSource& ScriptNamed(std::string_view name);

}  // namespace taskq::broker
