// Checks that go on past the first invalid field, so that the caller hears of every one at once
// (HTTP 422 lists them all, docs/http-api.md "Errors").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "taskq/status.h"

namespace taskq {

class FieldErrors {
 public:
  // At most this many are kept: the answer to a large invalid bulk stays small.
  static constexpr size_t kMaxKept = 100;

  // Adds an invalid-argument status with the fields it carries (OK adds nothing). Returns false
  // for any other error, which the caller returns as it is.
  bool Add(const Status& s);
  // For a parser that goes on past every error: adds `s` as Add does and returns s.ok(), so that
  // the checks that depend on this one run only when it held. An error of another kind is kept
  // (the first one), and ToStatus returns it as it is instead of the fields.
  bool Check(const Status& s);
  bool empty() const { return errors_.empty(); }
  // The error Check kept; else OK when nothing was added; else kInvalidArgument naming the first
  // field, carrying the others.
  Status ToStatus() &&;

 private:
  void Keep(FieldError error);
  std::vector<FieldError> errors_;
  Status other_;
};

// The fields `s` names: field() first, then every one it carries (none when OK).
std::vector<std::string> FieldNames(const Status& s);

// `s` with `prefix` put before its field and every one it carries ("jobs[3]." + "priority").
Status WithFieldPrefix(const Status& s, std::string_view prefix);

}  // namespace taskq
