// Redis Sentinel: where the master of a monitored set is now. Every connection to an endpoint
// given as redis+sentinel:// asks here when it opens, and again about once a second while it is
// in use (RedisConnection::CheckUsable), so a failover moves every connection to the new master.
#pragma once

#include <chrono>

#include "broker/redis_endpoint.h"
#include "taskq/status.h"

namespace taskq::broker {

// Asks the sentinels in their order, the first that answers wins: returns `endpoint` with host
// and port set to the master's address, and that sentinel moved to the front of `sentinels` (it
// is asked first next time). `timeout` bounds the connect and, again, the answer of each
// sentinel. Unavailable when no sentinel answers or none knows the master (the message names
// each sentinel's failure).
Result<RedisEndpoint> LocateMaster(const RedisEndpoint& endpoint,
                                   std::chrono::milliseconds timeout);

// LocateMaster shared by the connections of this process (keyed by sentinels, master name and
// database): an answer younger than `max_age` is reused, and while one thread asks, the others
// take the last answer instead of waiting. max_age 0 always asks (and records the answer).
Result<RedisEndpoint> SharedLocateMaster(const RedisEndpoint& endpoint,
                                         std::chrono::milliseconds max_age,
                                         std::chrono::milliseconds timeout);

}  // namespace taskq::broker
