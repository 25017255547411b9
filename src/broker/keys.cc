#include "broker/keys.h"

namespace taskq::broker {

QueueKeys::QueueKeys(std::string_view prefix, std::string_view queue)
    : queue_(queue), base_(std::string(prefix) + ":{" + std::string(queue) + "}:") {}

std::string QueueRegistryKey(std::string_view prefix) { return std::string(prefix) + ":queues"; }

}  // namespace taskq::broker
