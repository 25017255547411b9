#include "api/shards_request.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "common/shard_placement.h"

namespace taskq::api {

Result<int32_t> ParseShardsRequest(std::string_view body) {
  boost::system::error_code error;
  const boost::json::value value = boost::json::parse(body, error);
  if (error || !value.is_object()) {
    return InvalidArgument("", "the body must be a JSON object such as {\"shards\": 3}");
  }
  int32_t shards = 0;
  for (const auto& [key, item] : value.get_object()) {
    if (key != "shards") {
      return InvalidArgument(std::string(key), "unknown field; the body takes \"shards\" only");
    }
    if (!item.is_int64() || item.get_int64() < 1 || item.get_int64() > kMaxShards) {
      return InvalidArgument("shards",
                             "must be an integer from 1 to " + std::to_string(kMaxShards));
    }
    shards = static_cast<int32_t>(item.get_int64());
  }
  if (shards == 0) return InvalidArgument("shards", "is required");
  return shards;
}

}  // namespace taskq::api
