#include "broker/redis_stream.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>

#include "broker/tls_stream.h"

namespace taskq::broker {
namespace {

using std::chrono::milliseconds;

// TCP keepalive: a peer that vanished (a host down, a cable cut) is noticed within about 30 s
// even on an idle connection (a subscriber's).
constexpr int kKeepAliveIdleSeconds = 15;
constexpr int kKeepAliveIntervalSeconds = 5;
constexpr int kKeepAliveProbes = 3;

// Connects `fd` to `address` within `timeout`; 0 or an errno.
int ConnectWithin(int fd, const sockaddr* address, socklen_t length, milliseconds timeout) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int error = 0;
  if (::connect(fd, address, length) != 0) {
    if (errno != EINPROGRESS) return errno;
    pollfd writable{fd, POLLOUT, 0};
    int ready = 0;
    do {
      ready = ::poll(&writable, 1, static_cast<int>(timeout.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) return ETIMEDOUT;
    socklen_t size = sizeof error;
    if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
  }
  ::fcntl(fd, F_SETFL, flags);
  return error;
}

Result<UniqueFd> ConnectSocket(const RedisEndpoint& endpoint) {
  const auto failed = [&](const std::string& why) {
    return Unavailable("cannot connect to " + endpoint.Describe() + ": " + why);
  };
  if (!endpoint.unix_socket.empty()) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (endpoint.unix_socket.size() >= sizeof address.sun_path) return failed("path too long");
    ::memcpy(address.sun_path, endpoint.unix_socket.data(), endpoint.unix_socket.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return failed(::strerror(errno));
    const int error = ConnectWithin(fd.get(), reinterpret_cast<const sockaddr*>(&address),
                                    sizeof address, endpoint.connect_timeout);
    if (error != 0) return failed(::strerror(error));
    return fd;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (const int error = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found);
      error != 0) {
    return failed(::gai_strerror(error));
  }
  int last_error = EHOSTUNREACH;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) {
      last_error = errno;
      continue;
    }
    last_error = ConnectWithin(fd.get(), a->ai_addr, a->ai_addrlen, endpoint.connect_timeout);
    if (last_error != 0) continue;
    ::freeaddrinfo(found);
    const int on = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_KEEPIDLE, &kKeepAliveIdleSeconds, sizeof(int));
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_KEEPINTVL, &kKeepAliveIntervalSeconds, sizeof(int));
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_KEEPCNT, &kKeepAliveProbes, sizeof(int));
    return fd;
  }
  ::freeaddrinfo(found);
  return failed(::strerror(last_error));
}

}  // namespace

void SetSocketTimeouts(int fd, milliseconds timeout) {
  const timeval value{static_cast<time_t>(timeout.count() / 1000),
                      static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof value);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, sizeof value);
}

std::string IoErrorText(int error) {
  if (error == EAGAIN || error == EWOULDBLOCK) return "no reply within the command timeout";
  return ::strerror(error);
}

Result<std::unique_ptr<RedisStream>> ConnectRedisStream(const RedisEndpoint& endpoint) {
  auto socket = ConnectSocket(endpoint);
  if (!socket.ok()) return socket.status();
  SetSocketTimeouts(socket->get(), endpoint.command_timeout);
  if (endpoint.tls.enabled) return StartTls(std::move(*socket), endpoint);
  return std::unique_ptr<RedisStream>(new PlainRedisStream(std::move(*socket)));
}

Status PlainRedisStream::WriteAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("Redis connection write failed: " + IoErrorText(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<size_t> PlainRedisStream::Read(char* buffer, size_t capacity, bool wait) {
  for (;;) {
    const ssize_t n = ::recv(fd(), buffer, capacity, wait ? 0 : MSG_DONTWAIT);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return Unavailable("Redis connection read failed: the server closed it");
    if (errno == EINTR) continue;
    if (!wait && (errno == EAGAIN || errno == EWOULDBLOCK)) return size_t{0};
    return Unavailable("Redis connection read failed: " + IoErrorText(errno));
  }
}

}  // namespace taskq::broker
