// rediss:// against a real redis-server that serves TLS only, with certificates the test made
// (test_certificates.h): a client, a worker process and the inspector over TLS, large
// pipelines, the wake-up subscription, client certificates, and every way a server's
// certificate can be wrong failing with a clear error.
#include <gtest/gtest.h>

#include "broker/redis_connection.h"
#include "taskq/client.h"
#include "taskq/inspector.h"
#include "testing/redis_server.h"
#include "testing/test_certificates.h"
#include "testing/wait.h"
#include "testing/worker_process.h"

namespace taskq::testing {
namespace {
using std::chrono::seconds;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RedisServer>(RedisServerOptions{.tls = true});
  }

  std::string UrlWith(const std::string& query) const {
    return "rediss://127.0.0.1:" + std::to_string(server_->port()) + "/0?" + query;
  }
  // The error of a PING through `url`; empty when it answered.
  static std::string PingError(const std::string& url) {
    auto endpoint = broker::ParseRedisUrl(url);
    if (!endpoint.ok()) return endpoint.status().ToString();
    auto connection = broker::RedisConnection::Open(*endpoint);
    if (!connection.ok()) return connection.status().message();
    auto pong = (*connection)->Run({"PING"});
    if (!pong.ok()) return pong.status().message();
    return pong->view().str() == "PONG" ? "" : "no PONG";
  }

  std::unique_ptr<RedisServer> server_;
};

TEST_F(TlsTest, ClientWorkerAndInspectorRunJobsOverTls) {
  auto client = Client::Open({server_->url()});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto inspector = std::move(*Inspector::Open({server_->url()}));
  // The idle poll is a minute: a job that starts sooner was heard through the subscription.
  WorkerProcess worker(server_->url(), "q=2", 2000, 1000, /*idle_poll_ms=*/60000);
  auto completed = [&](int64_t n) {
    auto counts = inspector->Counts("q");
    return counts.ok() && counts->completed == n;
  };
  EnqueueRequest request{"echo", R"({"over":"tls"})", {}};
  request.options.queue = "q";
  auto first = (*client)->Enqueue(request);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(WaitUntil([&] { return completed(1); }, seconds(20)));
  auto job = (*client)->Get("q", first->id);
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->result_json, R"({"over":"tls"})");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the worker idles, subscribed
  ASSERT_TRUE((*client)->Enqueue(request).ok());
  EXPECT_TRUE(WaitUntil([&] { return completed(2); }, seconds(20)));
}

TEST_F(TlsTest, PipelinesOfManyMegabytesCrossIntact) {
  auto client = std::move(*Client::Open({server_->url()}));
  std::vector<EnqueueRequest> requests;
  const std::string padding(4000, 'x');
  for (int i = 0; i < 2000; ++i) {  // about 8 MB each way: many TLS records, many reads
    EnqueueRequest request{
        "echo", R"({"i":)" + std::to_string(i) + R"(,"p":")" + padding + "\"}", {}};
    request.options.queue = "bulk";
    requests.push_back(std::move(request));
  }
  auto created = client->EnqueueBulk(requests);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->size(), 2000u);
  auto last = client->Get("bulk", created->back().id);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->data_json, requests.back().data_json);
  auto counts = std::move(*Inspector::Open({server_->url()}))->Counts("bulk");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->waiting, 2000);
}

TEST_F(TlsTest, AServerCertificateOfAnotherCaIsRefused) {
  const std::string error = PingError(UrlWith("tls_ca=" + Certificates().other_ca));
  EXPECT_TRUE(
      Contains(error, "TLS handshake with rediss://127.0.0.1:" + std::to_string(server_->port())))
      << error;
  EXPECT_TRUE(Contains(error, "the server's certificate was refused: ")) << error;
  // The server sends its chain with the CA or without it; either way the CA is unknown.
  EXPECT_TRUE(Contains(error, "self-signed certificate in certificate chain") ||
              Contains(error, "unable to get local issuer certificate"))
      << error;
  // Without a CA file the system's CAs decide, which do not know the test CA.
  EXPECT_TRUE(Contains(PingError(UrlWith("tls_server_name=localhost")), "refused"));
}

TEST_F(TlsTest, ANameTheCertificateDoesNotCarryIsRefused) {
  const std::string ca = "tls_ca=" + Certificates().ca;
  EXPECT_EQ(PingError(UrlWith(ca + "&tls_server_name=localhost")), "");
  const std::string error = PingError(UrlWith(ca + "&tls_server_name=redis.example.com"));
  EXPECT_TRUE(Contains(error, "the server's certificate was refused: hostname mismatch")) << error;
}

TEST_F(TlsTest, InsecureSkipsTheVerification) {
  EXPECT_EQ(PingError(UrlWith("tls_insecure=true")), "");
  EXPECT_EQ(PingError(UrlWith("tls_ca=" + Certificates().other_ca + "&tls_insecure=true")), "");
}

TEST_F(TlsTest, AServerThatRequiresClientCertificatesTakesOurs) {
  RedisServer strict(RedisServerOptions{.extra_args = {"--tls-auth-clients", "yes"}, .tls = true});
  const std::string base =
      "rediss://127.0.0.1:" + std::to_string(strict.port()) + "/0?tls_ca=" + Certificates().ca;
  EXPECT_NE(PingError(base), "");  // no client certificate: the server hangs up
  EXPECT_EQ(PingError(base + "&tls_cert=" + Certificates().client_cert +
                      "&tls_key=" + Certificates().client_key),
            "");
  const std::string missing = PingError(base + "&tls_cert=/nonexistent.pem&tls_key=/nonexistent");
  EXPECT_TRUE(Contains(missing, "cannot use the TLS client certificate /nonexistent.pem"))
      << missing;
}

TEST_F(TlsTest, TheWrongSchemeForThePortFailsClearly) {
  const std::string plain = PingError("redis://127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_TRUE(Contains(plain, "Redis connection read failed")) << plain;
  RedisServer plain_server;
  const std::string tls = PingError("rediss://127.0.0.1:" + std::to_string(plain_server.port()) +
                                    "/0?tls_ca=" + Certificates().ca);
  EXPECT_TRUE(Contains(tls, "TLS handshake with rediss://127.0.0.1:")) << tls;
  EXPECT_TRUE(Contains(tls, "(is it a TLS port?)")) << tls;
}

}  // namespace
}  // namespace taskq::testing
