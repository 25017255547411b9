// Redis URLs (--redis-url): parsed, described for logs, and masked. A description must not
// depend on the password, and must parse again to the same place.
#include <cstdint>

#include "broker/redis_endpoint.h"
#include "common/url_password.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = taskq::fuzz::AsText(data, size);
  (void)taskq::MaskUrlPassword(text);
  auto endpoint = taskq::broker::ParseRedisUrl(text);
  if (!endpoint.ok()) {
    TASKQ_FUZZ_CHECK(endpoint.status().code() == taskq::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string described = endpoint->Describe();
  if (!endpoint->password.empty()) {  // the description shows no trace of the password
    taskq::broker::RedisEndpoint other = *endpoint;
    other.password = "another password";
    TASKQ_FUZZ_CHECK(other.Describe() == described);
  }
  if (endpoint->user.empty() && endpoint->password.empty()) {
    auto again = taskq::broker::ParseRedisUrl(described);
    TASKQ_FUZZ_CHECK(again.ok());
    TASKQ_FUZZ_CHECK(again->port == endpoint->port && again->db == endpoint->db);
    TASKQ_FUZZ_CHECK(again->unix_socket == endpoint->unix_socket);
    TASKQ_FUZZ_CHECK(again->master_name == endpoint->master_name);
    TASKQ_FUZZ_CHECK(again->tls == endpoint->tls);
    TASKQ_FUZZ_CHECK(again->sentinel_user == endpoint->sentinel_user);
  }
  return 0;
}
