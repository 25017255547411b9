// The webhook job type against a real HTTP server (Python's http.server) on loopback, which is
// allowlisted for these tests (allow_cidrs 127.0.0.0/8) except where the SSRF guard is the
// subject. Signatures are recomputed here with OpenSSL's HMAC directly, as a receiver would verify
// them.
#include "handlers/webhook.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>

#include "common/field_errors.h"
#include "handlers/http_target.h"
#include "testing/base64.h"
#include "testing/fake_job_context.h"
#include "testing/http_server.h"
#include "testing/redis_server.h"

namespace taskq::handlers {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using ::taskq::testing::FakeJobContext;
using ::taskq::testing::HttpServer;
using ::taskq::testing::RecordedRequest;

using ::taskq::testing::Base64;

// The key behind kSecret: 32 bytes, some of them not printable.
const std::string kKey = std::string("taskq-test-key\x00\x01\x02\xff", 18) + "-0123456789abc";
const std::string kSecret = "whsec_" + Base64(kKey);

// What a Standard Webhooks receiver computes to verify a request.
std::string ExpectedSignature(const RecordedRequest& request) {
  const std::string content =
      request.Header("webhook-id") + "." + request.Header("webhook-timestamp") + "." + request.body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &length);
  return "v1," + Base64(std::string_view(reinterpret_cast<const char*>(mac), length));
}

void ExpectSignedBy(const RecordedRequest& request, const std::string& job_id) {
  EXPECT_EQ(request.Header("webhook-id"), job_id);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t timestamp = std::stoll(request.Header("webhook-timestamp"));
  EXPECT_LE(std::abs(now - timestamp), 60) << "webhook-timestamp is unix seconds";
  EXPECT_EQ(request.Header("webhook-signature"), ExpectedSignature(request));
}

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<HttpServer>(); }
  void TearDown() override { server_.reset(); }

  WebhookOptions Options() const {
    WebhookOptions options;
    options.secret = kSecret;
    options.allow_cidrs = {"127.0.0.0/8"};
    options.allowed_ports.clear();  // the test server's port is random
    options.default_timeout = std::chrono::seconds(10);
    return options;
  }

  HandlerResult Run(const WebhookOptions& options, const json::object& data,
                    const std::string& id = "job-1") {
    FakeJobContext ctx(id, json::serialize(data));
    return MakeWebhookHandler(options)(ctx);
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(WebhookTest, SignedPostReachesTheReceiverWithTheSameIdOnEveryAttempt) {
  const json::object data = {
      {"url", server_->Url("/ok?source=test")},
      {"headers", json::object{{"X-Tenant", "acme"}, {"Authorization", "Bearer t0ken"}}},
      {"body", json::object{{"event", "order.paid"}, {"amount", 42}, {"note", "Zoë"}}},
  };
  const Handler handler = MakeWebhookHandler(Options());
  FakeJobContext first("01HX3Q5Z8K2M4N6P7R9S", json::serialize(data));
  const HandlerResult result = handler(first);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  EXPECT_EQ(first.log.size(), 1u);

  const json::value reply = json::parse(result.result_json);
  EXPECT_EQ(reply.at("status"), 200);
  EXPECT_EQ(reply.at("body"), "{\"received\":true}");
  EXPECT_EQ(reply.at("truncated"), false);
  EXPECT_GE(reply.at("duration_ms").as_int64(), 0);
  const json::object& headers = reply.at("headers").as_object();
  EXPECT_EQ(headers.at("content-type"), "application/json");
  EXPECT_EQ(headers.at("x-request-id"), "req-42");
  EXPECT_FALSE(headers.contains("set-cookie")) << "receiver cookies must not be stored";

  std::vector<RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/ok?source=test");
  EXPECT_EQ(request.body, "{\"event\":\"order.paid\",\"amount\":42,\"note\":\"Zoë\"}");
  EXPECT_EQ(request.Header("Content-Type"), "application/json");
  EXPECT_EQ(request.Header("User-Agent"), "taskq-webhook/0.1");
  EXPECT_EQ(request.Header("X-Tenant"), "acme");
  EXPECT_EQ(request.Header("Authorization"), "Bearer t0ken");
  EXPECT_FALSE(request.HasHeader("Expect"));
  ExpectSignedBy(request, "01HX3Q5Z8K2M4N6P7R9S");

  // A retry of the same job: the receiver can tell it is the same message.
  FakeJobContext second("01HX3Q5Z8K2M4N6P7R9S", json::serialize(data), 2);
  ASSERT_EQ(handler(second).kind, HandlerResult::Kind::kSuccess);
  requests = server_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].Header("webhook-id"), requests[0].Header("webhook-id"));
  ExpectSignedBy(requests[1], "01HX3Q5Z8K2M4N6P7R9S");
}

TEST_F(WebhookTest, StringBodyIsSentAsIsWithTheMethodGiven) {
  json::object data = {{"url", server_->Url("/ok")}, {"method", "PUT"}, {"body", "plain ä\n"}};
  ASSERT_EQ(Run(Options(), data).kind, HandlerResult::Kind::kSuccess);
  data["method"] = "PATCH";
  data["headers"] = json::object{{"content-type", "application/xml"}, {"X-Empty", ""}};
  data["body"] = "<a/>";
  ASSERT_EQ(Run(Options(), data).kind, HandlerResult::Kind::kSuccess);

  const std::vector<RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].body, "plain ä\n");
  EXPECT_EQ(requests[0].Header("Content-Type"), "text/plain; charset=utf-8");
  ExpectSignedBy(requests[0], "job-1");
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].Header("Content-Type"), "application/xml");
  EXPECT_TRUE(requests[1].HasHeader("X-Empty"));
  EXPECT_EQ(requests[1].body, "<a/>");
}

TEST_F(WebhookTest, WithoutASecretNothingIsSigned) {
  WebhookOptions options = Options();
  options.secret.clear();
  ASSERT_EQ(Run(options, {{"url", server_->Url("/ok")}, {"method", "GET"}}).kind,
            HandlerResult::Kind::kSuccess);
  ASSERT_EQ(Run(options, {{"url", server_->Url("/ok")}, {"method", "DELETE"}}).kind,
            HandlerResult::Kind::kSuccess);
  ASSERT_EQ(Run(options, {{"url", server_->Url("/ok")}}).kind, HandlerResult::Kind::kSuccess);
  const std::vector<RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const RecordedRequest& request : requests) {
    EXPECT_FALSE(request.HasHeader("webhook-id"));
    EXPECT_FALSE(request.HasHeader("webhook-signature"));
    EXPECT_FALSE(request.HasHeader("Content-Type")) << request.method << " without a body";
    EXPECT_TRUE(request.body.empty());
  }
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_FALSE(requests[0].HasHeader("Content-Length"));
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_FALSE(requests[1].HasHeader("Content-Length"));
  EXPECT_EQ(requests[2].method, "POST");
  EXPECT_EQ(requests[2].Header("Content-Length"), "0");
}

TEST_F(WebhookTest, ServiceUnavailableIsRetriedAfterTheDelayItAsksFor) {
  const HandlerResult result = Run(Options(), {{"url", server_->Url("/busy")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_EQ(result.retry_after, milliseconds(2000));
  EXPECT_NE(result.message.find("503"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("busy, come back later"), std::string::npos) << result.message;
}

// 429 with a time to come back: the job waits without using up an attempt (not a failure).
TEST_F(WebhookTest, TooManyRequestsWithRetryAfterIsRateLimitedNotFailed) {
  const HandlerResult result = Run(Options(), {{"url", server_->Url("/rate-limited")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRateLimited);
  EXPECT_EQ(result.retry_after, milliseconds(3000));
  EXPECT_NE(result.message.find("429"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("too many requests"), std::string::npos) << result.message;
}

// Without a Retry-After nothing says when to come back: an ordinary retry with backoff.
TEST_F(WebhookTest, TooManyRequestsWithoutRetryAfterIsRetried) {
  const HandlerResult result = Run(Options(), {{"url", server_->Url("/throttled")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_LT(result.retry_after, milliseconds(0));  // the job's backoff decides
  EXPECT_NE(result.message.find("429"), std::string::npos) << result.message;
}

TEST_F(WebhookTest, RetryAfterMayBeAnHttpDate) {
  const HandlerResult result = Run(Options(), {{"url", server_->Url("/busy-date")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRateLimited);
  EXPECT_NE(result.message.find("429"), std::string::npos) << result.message;
  // Two minutes ahead, in whole seconds, with a little slack for the time the test took.
  EXPECT_GT(result.retry_after, milliseconds(100000));
  EXPECT_LE(result.retry_after, milliseconds(121000));
}

TEST_F(WebhookTest, ClientErrorIsPermanentFailureQuotingTheAnswer) {
  const HandlerResult result = Run(Options(), {{"url", server_->Url("/bad")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("400"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("invalid payload"), std::string::npos) << result.message;

  const HandlerResult missing = Run(Options(), {{"url", server_->Url("/nowhere")}});
  EXPECT_EQ(missing.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(missing.message.find("404"), std::string::npos) << missing.message;
}

TEST_F(WebhookTest, TimeoutIsRetried) {
  const auto start = std::chrono::steady_clock::now();
  const HandlerResult result =
      Run(Options(), {{"url", server_->Url("/slow")}, {"timeout_ms", 300}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_NE(result.message.find("no answer within 300 ms"), std::string::npos) << result.message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(WebhookTest, ClosedPortIsRetried) {
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) + "/";
  const HandlerResult result = Run(Options(), {{"url", url}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kRetry);
  EXPECT_NE(result.message.find(url), std::string::npos) << result.message;
}

TEST_F(WebhookTest, LoopbackIsRefusedUnlessAllowlisted) {
  WebhookOptions options = Options();
  options.allow_cidrs.clear();
  const std::string port = std::to_string(server_->port());
  HandlerResult result = Run(options, {{"url", server_->Url("/ok")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("127.0.0.1 is a loopback address"), std::string::npos)
      << result.message;

  for (const std::string& url :
       {"http://localhost:" + port + "/ok", "http://[::ffff:127.0.0.1]:" + port + "/ok",
        "http://[::1]:" + port + "/ok", "http://0.0.0.0:" + port + "/ok",
        "http://2130706433:" + port + "/ok", "http://0x7f.1:" + port + "/ok"}) {
    result = Run(options, {{"url", url}});
    EXPECT_EQ(result.kind, HandlerResult::Kind::kFail) << url;
    EXPECT_NE(result.message.find("refused"), std::string::npos) << url << ": " << result.message;
  }
  EXPECT_TRUE(server_->Requests().empty()) << "nothing may reach a refused address";

  // A narrower allowlist lets exactly that through.
  options.allow_cidrs = {"127.0.0.1/32"};
  EXPECT_EQ(Run(options, {{"url", server_->Url("/ok")}}).kind, HandlerResult::Kind::kSuccess);
}

// A URL could otherwise point the worker at any TCP service (SMTP, Redis, a database).
TEST_F(WebhookTest, OnlyAllowedPortsAreReachedAlsoAfterARedirect) {
  WebhookOptions options = Options();
  options.allowed_ports = kDefaultAllowedPorts;
  HandlerResult result = Run(options, {{"url", server_->Url("/ok")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.url: refused: port " + std::to_string(server_->port()) +
                                " is not allowed (allowed: 80, 443; --webhook-ports)"),
            std::string::npos)
      << result.message;
  EXPECT_TRUE(server_->Requests().empty());

  options.allowed_ports = {server_->port()};
  EXPECT_EQ(Run(options, {{"url", server_->Url("/ok")}}).kind, HandlerResult::Kind::kSuccess);
  options.max_redirects = 1;
  result = Run(options, {{"url", server_->Url("/redirect-port")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("redirect to http://127.0.0.1:9/ok: refused: port 9 is not "
                                "allowed"),
            std::string::npos)
      << result.message;

  options.allowed_ports = {0};
  EXPECT_EQ(ValidateWebhookOptions(options).field(), "allowed_ports");
}

TEST_F(WebhookTest, HostNameConnectsToTheCheckedAddressAndKeepsItsHostHeader) {
  const std::string url = "http://localhost:" + std::to_string(server_->port()) + "/ok";
  const HandlerResult result = Run(Options(), {{"url", url}});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  const std::vector<RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Header("Host"), "localhost:" + std::to_string(server_->port()));
}

TEST_F(WebhookTest, RedirectsAreNotFollowedByDefault) {
  const HandlerResult result = Run(Options(), {{"url", server_->Url("/redirect-local")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("302"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("not followed"), std::string::npos) << result.message;
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_F(WebhookTest, RedirectToAPrivateAddressIsRefused) {
  WebhookOptions options = Options();
  options.max_redirects = 3;
  const HandlerResult result = Run(options, {{"url", server_->Url("/redirect")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("10.0.0.1 is a private address"), std::string::npos)
      << result.message;
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_F(WebhookTest, FollowedRedirectIsCheckedAndSignedAgain) {
  WebhookOptions options = Options();
  options.max_redirects = 2;
  const json::object data = {{"url", server_->Url("/redirect-local")},
                             {"body", json::object{{"n", 1}}}};
  HandlerResult result = Run(options, data, "job-7");
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  EXPECT_EQ(json::parse(result.result_json).at("status"), 200);
  std::vector<RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].body, "{\"n\":1}");
  ExpectSignedBy(requests[0], "job-7");
  // 302 turns a POST into a GET without a body, signed over that empty body.
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].path, "/ok");
  EXPECT_TRUE(requests[1].body.empty());
  ExpectSignedBy(requests[1], "job-7");
  EXPECT_EQ(requests[1].Header("webhook-timestamp"), requests[0].Header("webhook-timestamp"));

  result = Run(options, {{"url", server_->Url("/redirect-loop")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("more than 2 redirects"), std::string::npos) << result.message;
  EXPECT_EQ(server_->Requests().size(), 2u + 3u);
}

TEST_F(WebhookTest, HeadersOfTheJobAreNotSentOnToAnotherOrigin) {
  WebhookOptions options = Options();
  options.max_redirects = 1;
  const json::object data = {{"url", server_->Url("/redirect-other")},
                             {"method", "PUT"},
                             {"headers", json::object{{"Authorization", "Bearer t0ken"},
                                                      {"Cookie", "a=b"},
                                                      {"X-Api-Key", "k3y"},
                                                      {"X-Tenant", "acme"},
                                                      {"Content-Type", "text/csv"}}},
                             {"body", "x"}};
  const HandlerResult result = Run(options, data);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  const std::vector<RecordedRequest> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer t0ken");
  EXPECT_EQ(requests[1].Header("Host"), "localhost:" + std::to_string(server_->port()));
  EXPECT_EQ(requests[1].method, "PUT");  // 302 changes only a POST
  EXPECT_EQ(requests[1].body, "x");
  EXPECT_EQ(requests[0].Header("X-Api-Key"), "k3y");
  // Any header the job set may be a credential of the first receiver: only the body's type goes.
  for (const char* name : {"Authorization", "Cookie", "X-Api-Key", "X-Tenant"}) {
    EXPECT_FALSE(requests[1].HasHeader(name)) << name;
  }
  EXPECT_EQ(requests[1].Header("Content-Type"), "text/csv");
  ExpectSignedBy(requests[1], "job-1");
}

TEST(HttpTargetTest, ARedirectFromHttpsToHttpIsADowngrade) {
  auto https = ParseHttpTarget("https://hooks.example.com/a", nullptr, "data.url");
  ASSERT_TRUE(https.ok());
  auto http = ParseHttpTarget("http://hooks.example.com/b", &*https, "Location");
  auto relative = ParseHttpTarget("/c", &*https, "Location");
  auto other = ParseHttpTarget("https://other.example.com/", &*https, "Location");
  ASSERT_TRUE(http.ok() && relative.ok() && other.ok());
  EXPECT_TRUE(https->DowngradesTo(*http));
  EXPECT_FALSE(https->DowngradesTo(*relative));
  EXPECT_FALSE(https->DowngradesTo(*other));
  EXPECT_FALSE(http->DowngradesTo(*https));
}

TEST_F(WebhookTest, AnswerThatIsNotUtf8IsStoredAsValidText) {
  const HandlerResult result = Run(Options(), {{"url", server_->Url("/binary")}});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  const json::value reply = json::parse(result.result_json);
  EXPECT_EQ(reply.at("body").as_string(), "ok \uFFFD\uFFFD \uFFFD");
  EXPECT_EQ(reply.at("truncated"), false);
}

TEST_F(WebhookTest, LargeAnswerIsTruncatedAtACharacterBoundary) {
  WebhookOptions options = Options();
  options.max_response_bytes = 1001;  // in the middle of the 501st "ä"
  const HandlerResult result = Run(options, {{"url", server_->Url("/big")}});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  const json::value reply = json::parse(result.result_json);
  EXPECT_EQ(reply.at("status"), 200);
  EXPECT_EQ(reply.at("truncated"), true);
  std::string expected;
  for (int i = 0; i < 500; ++i) expected += "ä";
  EXPECT_EQ(reply.at("body").as_string(), expected);
}

TEST_F(WebhookTest, InvalidDataFailsWithoutConnecting) {
  HandlerResult result = Run(Options(), {{"url", server_->Url("/ok")},
                                         {"headers", json::object{{"X-Evil", "a\r\nHost: x"}}}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.headers.X-Evil"), std::string::npos) << result.message;
  result = Run(Options(), {{"url", "file:///etc/passwd"}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("data.url"), std::string::npos) << result.message;
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(WebhookTest, InvalidOptionsFailEveryJob) {
  WebhookOptions options = Options();
  options.allow_cidrs = {"127.0.0.1/8"};
  const HandlerResult result = Run(options, {{"url", server_->Url("/ok")}});
  EXPECT_EQ(result.kind, HandlerResult::Kind::kFail);
  EXPECT_NE(result.message.find("configuration error"), std::string::npos) << result.message;
  EXPECT_TRUE(server_->Requests().empty());
}

// --- ValidateWebhookData and ValidateWebhookOptions ---

void ExpectInvalid(const json::value& data, const std::string& field) {
  const Status status = ValidateWebhookData(json::serialize(data));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << json::serialize(data);
  EXPECT_EQ(status.field(), field) << json::serialize(data) << " -> " << status.ToString();
}

json::object Data() { return {{"url", "https://hooks.example.com/taskq"}}; }

TEST(ValidateWebhookDataTest, AcceptsCompleteData) {
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    json::object data = Data();
    data["method"] = method;
    data["headers"] = json::object{{"Authorization", "Bearer x"}, {"X-Trace", "a\tb"}};
    if (std::string_view(method) != "GET") data["body"] = json::array{1, "two", nullptr};
    data["timeout_ms"] = 60000;
    const Status status = ValidateWebhookData(json::serialize(data));
    EXPECT_TRUE(status.ok()) << method << ": " << status.ToString();
  }
  // Addresses are only checked when the job runs, against the worker's allowlist.
  json::object data = Data();
  data["url"] = "http://127.0.0.1:8080/hook";
  EXPECT_TRUE(ValidateWebhookData(json::serialize(data)).ok());
  data["url"] = "http://[::1]/hook";
  EXPECT_TRUE(ValidateWebhookData(json::serialize(data)).ok());
}

TEST(ValidateWebhookDataTest, ErrorsNameTheField) {
  ExpectInvalid(json::object{}, "data.url");
  for (const json::value& url :
       {json::value(42), json::value("ftp://example.com/x"), json::value("file:///etc/passwd"),
        json::value("gopher://example.com/"), json::value("example.com/hook"),
        json::value("http://user:pw@example.com/"), json::value("http://exa mple.com/"),
        json::value("http://example.com/a\r\nb"), json::value("http://bücher.example/"),
        json::value("http://:80/"), json::value("http://[fe80::1%25eth0]/"),
        json::value("http://" + std::string(8200, 'a') + ".com/")}) {
    json::object data = Data();
    data["url"] = url;
    ExpectInvalid(data, "data.url");
  }

  json::object data = Data();
  data["method"] = "TRACE";
  ExpectInvalid(data, "data.method");
  data["method"] = "post";
  ExpectInvalid(data, "data.method");

  data = Data();
  data["headers"] = json::array{};
  ExpectInvalid(data, "data.headers");
  data["headers"] = json::object{{"X-Foo", 1}};
  ExpectInvalid(data, "data.headers.X-Foo");
  data["headers"] = json::object{{"X-Foo", "a\r\nX-Injected: 1"}};
  ExpectInvalid(data, "data.headers.X-Foo");
  data["headers"] = json::object{{"X-Foo", "a\nb"}};
  ExpectInvalid(data, "data.headers.X-Foo");
  data["headers"] = json::object{{"X-Foo", std::string("a\0b", 3)}};
  ExpectInvalid(data, "data.headers.X-Foo");
  for (const char* name :
       {"Host", "Content-Length", "transfer-encoding", "Connection", "TE", "Upgrade",
        "Proxy-Authorization", "Keep-Alive", "Webhook-Signature", "webhook-id", "Expect"}) {
    data["headers"] = json::object{{name, "x"}};
    ExpectInvalid(data, std::string("data.headers.") + name);
  }
  data["headers"] = json::object{{"Bad Name", "x"}};
  ExpectInvalid(data, "data.headers.?");
  data["headers"] = json::object{{"X-Foo:", "x"}};
  ExpectInvalid(data, "data.headers.?");
  json::object many;
  for (int i = 0; i < 51; ++i) many["X-H" + std::to_string(i)] = "v";
  data["headers"] = many;
  ExpectInvalid(data, "data.headers");

  data = Data();
  data["body"] = std::string((1 << 20) + 1, 'x');
  ExpectInvalid(data, "data.body");
  data["body"] = "x";
  data["method"] = "GET";
  ExpectInvalid(data, "data.body");

  data = Data();
  for (const json::value& timeout : {json::value(0), json::value(-5), json::value(60001),
                                     json::value("1000"), json::value(1.5)}) {
    data["timeout_ms"] = timeout;
    ExpectInvalid(data, "data.timeout_ms");
  }

  data = Data();
  data["payload"] = "typo for body";
  ExpectInvalid(data, "data.payload");
  ExpectInvalid(json::array{}, "data");
  EXPECT_EQ(ValidateWebhookData("{not json").field(), "data");
}

TEST(ValidateWebhookDataTest, NamesEveryInvalidField) {
  const json::object data = {
      {"url", "ftp://example.com/x"},
      {"method", "TRACE"},  // an invalid method leaves POST: the body is still checked
      {"headers", json::object{{"Host", "x"}, {"X-Ok", "v"}, {"X-Bad", 1}}},
      {"body", std::string((1 << 20) + 1, 'x')},
      {"timeout_ms", 0},
      {"payload", 1}};
  const Status status = ValidateWebhookData(json::serialize(data));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldNames(status), (std::vector<std::string>{"data.payload", "data.url", "data.method",
                                                          "data.headers.Host", "data.headers.X-Bad",
                                                          "data.body", "data.timeout_ms"}));
}

TEST(ValidateWebhookOptionsTest, NamesTheBadOption) {
  EXPECT_TRUE(ValidateWebhookOptions(WebhookOptions{}).ok());
  WebhookOptions options;
  options.secret = "whsec_" + Base64("a key of some length");
  options.allow_cidrs = {"10.0.0.0/8", "fd00::/8"};
  options.max_redirects = 5;
  EXPECT_TRUE(ValidateWebhookOptions(options).ok());

  options.allow_cidrs = {"10.0.0.0/8", "10.0.0.0/99"};
  EXPECT_EQ(ValidateWebhookOptions(options).field(), "allow_cidrs");
  options.allow_cidrs.clear();
  options.secret = "whsec_not*base64";
  EXPECT_EQ(ValidateWebhookOptions(options).field(), "secret");
  options.secret = "a plain secret is used as it is";
  EXPECT_TRUE(ValidateWebhookOptions(options).ok());
  options.max_redirects = 21;
  EXPECT_EQ(ValidateWebhookOptions(options).field(), "max_redirects");
}

}  // namespace
}  // namespace taskq::handlers
