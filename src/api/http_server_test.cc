#include "api/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace taskq::api {
namespace {

// A connected loopback socket, or -1.
int Connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// What arrives on fd within timeout_ms ("" when nothing does).
std::string ReadWithin(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return "";
  char buffer[4096];
  const ssize_t n = read(fd, buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

HttpServerOptions Loopback(uint16_t port = 0) {
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.threads = 1;
  return options;
}

void AnswerOk(HttpRequest, Respond respond) {
  HttpResponse response;
  response.status = 200;
  response.body = "up";
  respond(std::move(response));
}

// The runner relies on this: a server that listens holds its connections until Start, so a
// health check cannot pass before the process' other listeners are open.
TEST(HttpServerTest, ListenHoldsConnectionsUntilStartAnswersThem) {
  HttpServer server(Loopback(), AnswerOk);
  ASSERT_TRUE(server.Listen().ok());
  ASSERT_NE(server.port(), 0);
  const int fd = Connect(server.port());
  ASSERT_GE(fd, 0) << "a listening server accepts into its backlog";
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(ReadWithin(fd, 200), "") << "nothing answers before Start";
  ASSERT_TRUE(server.Start().ok());
  const std::string answer = ReadWithin(fd, 10000);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  close(fd);
  server.Stop();
  EXPECT_EQ(Connect(server.port()), -1) << "stopped: the port is closed";
  EXPECT_EQ(server.Start().code(), StatusCode::kFailedPrecondition) << "and stays closed";
}

TEST(HttpServerTest, StopAfterListenOnlyClosesThePortAndATakenPortIsUnavailable) {
  HttpServer first(Loopback(), AnswerOk);
  ASSERT_TRUE(first.Listen().ok());
  HttpServer second(Loopback(first.port()), AnswerOk);
  const Status taken = second.Start();
  EXPECT_EQ(taken.code(), StatusCode::kUnavailable) << taken.message();
  first.Stop();
  EXPECT_EQ(Connect(first.port()), -1);
  EXPECT_TRUE(second.Start().ok()) << "the port is free again once the first closed it";
}

}  // namespace
}  // namespace taskq::api
