// PUT /api/queues/{queue}/shards bodies (api/shards_request.h): what is accepted is a shard count
// from 1 to kMaxShards; a refusal names a field, or none for a body that is no JSON object.
#include <cstdint>

#include "api/shards_request.h"
#include "common/shard_placement.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto shards = taskq::api::ParseShardsRequest(taskq::fuzz::AsText(data, size));
  if (!shards.ok()) {
    TASKQ_FUZZ_CHECK(shards.status().code() == taskq::StatusCode::kInvalidArgument);
    return 0;
  }
  TASKQ_FUZZ_CHECK(*shards >= 1 && *shards <= taskq::kMaxShards);
  return 0;
}
