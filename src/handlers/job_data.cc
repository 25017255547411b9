#include "handlers/job_data.h"

#include <algorithm>

namespace taskq::handlers {

Status RejectUnknownKeys(const boost::json::object& object,
                         std::initializer_list<std::string_view> known, const std::string& prefix) {
  for (const auto& entry : object) {
    const std::string_view key(entry.key().data(), entry.key().size());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return InvalidArgument(prefix + "." + std::string(key), "unknown field");
    }
  }
  return Status::Ok();
}

HandlerResult ResultFromStatus(const Status& status, std::string_view prefix) {
  std::string message = std::string(prefix) + status.ToString();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kResourceExhausted:
      return HandlerResult::Fail(std::move(message));
    default:
      return HandlerResult::Retry(std::move(message));
  }
}

}  // namespace taskq::handlers
