// Redis Sentinel: where the master of a monitored set is now. Every connection to an endpoint
// given as redis+sentinel:// asks here when it opens, and again about once a second while it is
// in use (RedisConnection::CheckUsable), so a failover moves every connection to the new master.
#pragma once

#include <chrono>

#include "broker/redis_endpoint.h"
#include "taskq/status.h"

namespace taskq::broker {

// Asks the sentinels in their order, the first that answers wins: returns `endpoint` with host
// and port set to the master's address. `timeout` bounds the connect and the answer of each
// sentinel. Unavailable when no sentinel answers or none knows the master (the message names
// each sentinel's failure).
Result<RedisEndpoint> LocateMaster(const RedisEndpoint& endpoint,
                                   std::chrono::milliseconds timeout);

}  // namespace taskq::broker
