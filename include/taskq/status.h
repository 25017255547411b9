// Status and Result<T>: how every fallible taskq function reports failure. Cheap to copy on the
// success path (an OK status holds no allocation), so it is fine on hot paths.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace taskq {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input breaks a rule; field() names it
  kNotFound,            // the job, queue or schedule does not exist
  kAlreadyExists,       // e.g. a job id that is taken (enqueue treats this as idempotent)
  kFailedPrecondition,  // the object is in a state that forbids the operation
  kStaleToken,          // the worker no longer holds the job's lease (fencing token mismatch)
  kUnavailable,         // Redis unreachable or loading; worth retrying later
  kDeadlineExceeded,    // timed out
  kResourceExhausted,   // a size or count limit was hit
  kInternal,            // a bug or an unexpected reply; never the caller's fault
  kQueueFull,           // the queue holds its maximum length (QueueLimits); retry later
};

const char* StatusCodeName(StatusCode code);

// One invalid field of a request: its name in the caller's terms and the rule it breaks.
struct FieldError {
  std::string field;
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // For kInvalidArgument: the offending field in the caller's terms, e.g. "data.to" or "priority".
  const std::string& field() const { return field_; }
  // For kInvalidArgument from a check that goes on past the first error: the other invalid
  // fields, after field(). Empty otherwise (and on every OK status: no allocation).
  const std::vector<FieldError>& more_fields() const { return more_fields_; }
  Status WithMoreFields(std::vector<FieldError> more) && {
    more_fields_ = std::move(more);
    return std::move(*this);
  }

  // "invalid_argument: priority: must be an integer in [-1000000, 1000000]"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
  std::vector<FieldError> more_fields_;
};

inline Status InvalidArgument(std::string field, std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(field));
}
inline Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}
inline Status Internal(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}
inline Status NotFound(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}

// Either a value or a non-OK status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace taskq

// Propagates a non-OK status to the caller.
#define TASKQ_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::taskq::Status taskq_status_ = (expr);    \
    if (!taskq_status_.ok()) return taskq_status_; \
  } while (0)
