// Every invalid field a status names (its own and those it carries), for tests to compare whole.
#pragma once

#include <map>
#include <string>

#include "taskq/status.h"

namespace taskq::testing {

// field -> rule; empty for OK.
inline std::map<std::string, std::string> ErrorsByField(const Status& s) {
  std::map<std::string, std::string> out;
  if (s.ok()) return out;
  out[s.field()] = s.message();
  for (const FieldError& e : s.more_fields()) out[e.field] = e.message;
  return out;
}

}  // namespace taskq::testing
