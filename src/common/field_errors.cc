#include "common/field_errors.h"

#include <string>

namespace taskq {

bool FieldErrors::Add(const Status& s) {
  if (s.ok()) return true;
  if (s.code() != StatusCode::kInvalidArgument) return false;
  Keep({s.field(), s.message()});
  for (const FieldError& more : s.more_fields()) Keep(more);
  return true;
}

bool FieldErrors::Check(const Status& s) {
  if (!Add(s) && other_.ok()) other_ = s;
  return s.ok();
}

void FieldErrors::Keep(FieldError error) {
  if (errors_.size() >= kMaxKept) return;
  for (const FieldError& kept : errors_) {
    if (kept.field == error.field) return;  // one rule per field: the first found
  }
  errors_.push_back(std::move(error));
}

Status FieldErrors::ToStatus() && {
  if (!other_.ok()) return std::move(other_);
  if (errors_.empty()) return Status::Ok();
  FieldError first = std::move(errors_.front());
  errors_.erase(errors_.begin());
  return InvalidArgument(std::move(first.field), std::move(first.message))
      .WithMoreFields(std::move(errors_));
}

std::vector<std::string> FieldNames(const Status& s) {
  if (s.ok()) return {};
  std::vector<std::string> names = {s.field()};
  for (const FieldError& e : s.more_fields()) names.push_back(e.field);
  return names;
}

Status WithFieldPrefix(const Status& s, std::string_view prefix) {
  if (prefix.empty() || s.ok()) return s;
  std::vector<FieldError> more = s.more_fields();
  for (FieldError& e : more) e.field.insert(0, prefix);
  return Status(s.code(), s.message(), std::string(prefix) + s.field())
      .WithMoreFields(std::move(more));
}

}  // namespace taskq
