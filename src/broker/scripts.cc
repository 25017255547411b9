#include "broker/scripts.h"

#include <cstdlib>
#include <deque>

namespace taskq::broker {
namespace {

struct ScriptTable {
  std::vector<ScriptSource> active = EmbeddedScripts();
  std::deque<std::string> replacements;  // owns what replaced entries of `active` point to
};

ScriptTable& Table() {
  static ScriptTable table;
  return table;
}

}  // namespace

const std::vector<ScriptSource>& ActiveScripts() { return Table().active; }

const ScriptSource& ScriptNamed(std::string_view name) {
  for (const ScriptSource& s : ActiveScripts()) {
    if (s.name == name) return s;
  }
  std::abort();  // a script name is a compile-time constant: a typo is a bug
}

void ReplaceScriptForTesting(std::string_view name, std::string body, std::string sha1) {
  ScriptTable& table = Table();
  for (ScriptSource& s : table.active) {
    if (s.name != name) continue;
    s.body = table.replacements.emplace_back(std::move(body));
    s.sha1 = table.replacements.emplace_back(std::move(sha1));
    return;
  }
  std::abort();
}

void RestoreScriptsForTesting() {
  ScriptTable& table = Table();
  table.active = EmbeddedScripts();
  table.replacements.clear();
}

}  // namespace taskq::broker
