// TLS (OpenSSL) over a connected socket, for rediss:// endpoints. The server's certificate is
// verified against the endpoint's CA file (else the system's CAs) and must carry the endpoint's
// name (tls_server_name, else the host: a DNS name or an IP address); tls_insecure skips both.
// TLS 1.2 at least. Writes never raise SIGPIPE (the library may run in a program that does not
// ignore it).
#pragma once

#include <memory>

#include "broker/redis_endpoint.h"
#include "broker/redis_stream.h"
#include "common/unique_fd.h"
#include "taskq/status.h"

namespace taskq::broker {

// Runs the handshake on `socket` (connected, with the command timeout set) within the
// endpoint's connect timeout. A failed verification says why ("certificate verify failed:
// self-signed certificate"), and names the endpoint.
Result<std::unique_ptr<RedisStream>> StartTls(UniqueFd socket, const RedisEndpoint& endpoint);

}  // namespace taskq::broker
