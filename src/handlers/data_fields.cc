#include "handlers/data_fields.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>

namespace taskq::handlers {
namespace json = boost::json;

Result<json::value> ParseDataObject(std::string_view data_json) {
  return ParseJsonObject(data_json, "data");
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
