#include "common/job_codec.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

TEST(JobCodecTest, DefaultOptionsAreLeftOut) {
  auto body = EncodeJobBody("email", R"({"to":"user@example.com"})", {}, {});
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, R"({"d":{"to":"user@example.com"}})");  // type = queue: left out
  EnqueueOptions other_queue;
  other_queue.queue = "mail";
  auto named = EncodeJobBody("email", "{}", other_queue, {});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(*named, R"({"t":"email","d":{}})");
  auto decoded = DecodeJobBody(R"({"c":1,"d":{}})", "email");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->type, "email");
}

TEST(JobCodecTest, RoundTripsOptions) {
  EnqueueOptions o;
  o.priority = -4;
  o.max_attempts = 7;
  o.backoff = {BackoffType::kFixed, std::chrono::milliseconds(50), std::chrono::milliseconds(60),
               0.0};
  o.timeout = std::chrono::milliseconds(1234);
  o.keep_completed = {5, std::chrono::milliseconds(600)};
  auto body = EncodeJobBody("x", R"({"a":[1,2]})", o, {});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  std::string stored = "{\"c\":42," + body->substr(1);
  auto decoded = DecodeJobBody(stored, "x");  // queue "x" (the type)
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->created_ms, 42);
  EXPECT_EQ(decoded->type, "x");
  EXPECT_EQ(decoded->data_json, R"({"a":[1,2]})");
  EXPECT_EQ(decoded->options.priority, -4);
  EXPECT_EQ(decoded->options.max_attempts, 7);
  EXPECT_EQ(decoded->options.backoff.type, BackoffType::kFixed);
  EXPECT_EQ(decoded->options.backoff.delay.count(), 50);
  EXPECT_EQ(decoded->options.timeout.count(), 1234);
  EXPECT_EQ(decoded->options.keep_completed.count, 5);
  EXPECT_EQ(decoded->options.keep_completed.age.count(), 600);
}

TEST(JobCodecTest, RoundTripsTheScheduleThatCreatedTheJob) {
  EnqueueOptions o;
  o.schedule_id = "nightly";
  o.schedule_fire_ms = 1767225600000;
  auto body = EncodeJobBody("x", "{}", o, {});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, R"({"d":{},"o":{"schedule":{"id":"nightly","fire_ms":1767225600000}}})");
  auto decoded = DecodeJobBody("{\"c\":1," + body->substr(1), "x");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->options.schedule_id, "nightly");
  EXPECT_EQ(decoded->options.schedule_fire_ms, 1767225600000);
  auto plain = DecodeJobBody(R"({"c":1,"d":{}})", "x");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->options.schedule_id.empty());
  o.schedule_id = "bad id";
  EXPECT_EQ(EncodeJobBody("x", "{}", o, {}).status().field(), "schedule_id");
}

TEST(JobCodecTest, RoundTripsUniqueOptions) {
  EnqueueOptions o;
  o.unique = UniqueOptions{"tenant:7", UniqueOptions::Mode::kTtl, std::chrono::milliseconds(900)};
  auto body = EncodeJobBody("x", "{}", o, {});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, R"({"d":{},"o":{"unique":{"key":"tenant:7","mode":"ttl","ttl_ms":900}}})");
  auto decoded = DecodeJobBody("{\"c\":1," + body->substr(1), "x");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->options.unique, o.unique);
  o.unique = UniqueOptions{"k", UniqueOptions::Mode::kDebounce, std::chrono::milliseconds(0)};
  decoded = DecodeJobBody("{\"c\":1," + EncodeJobBody("x", "{}", o, {})->substr(1), "x");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->options.unique, o.unique);
  EXPECT_FALSE(DecodeJobBody(R"({"c":1,"d":{}})", "x")->options.unique);
}

TEST(JobCodecTest, RoundTripsTheTraceParent) {
  EnqueueOptions o;
  o.trace_parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto body = EncodeJobBody("x", "{}", o, {});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(
      *body,
      R"({"d":{},"o":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}})");
  auto decoded = DecodeJobBody("{\"c\":1," + body->substr(1), "x");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->options.trace_parent, o.trace_parent);
  o.trace_parent = "00-not-a-trace";
  EXPECT_EQ(EncodeJobBody("x", "{}", o, {}).status().field(), "traceparent");
}

TEST(JobCodecTest, RoundTripsTheCallbackUrl) {
  EnqueueOptions o;
  o.callback_url = "https://hooks.example.com/done?t=1";
  auto body = EncodeJobBody("x", "{}", o, {});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, R"({"d":{},"o":{"cb":"https://hooks.example.com/done?t=1"}})");
  auto decoded = DecodeJobBody("{\"c\":1," + body->substr(1), "x");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->options.callback_url, o.callback_url);
  o.callback_url = "ftp://hooks.example.com/";
  EXPECT_EQ(EncodeJobBody("x", "{}", o, {}).status().field(), "callback_url");
}

TEST(JobCodecTest, RejectsBadInputNamingTheField) {
  JobLimits limits;
  limits.max_data_bytes = 64;
  limits.max_json_depth = 4;
  struct Case {
    std::string type, data, field;
    EnqueueOptions options;
  };
  EnqueueOptions bad_priority;
  bad_priority.priority = 2000000;
  EnqueueOptions bad_attempts;
  bad_attempts.max_attempts = 0;
  EnqueueOptions bad_queue;
  bad_queue.queue = "a{b}";
  EnqueueOptions bad_id;
  bad_id.job_id = "x y";
  EnqueueOptions bad_jitter;
  bad_jitter.backoff.jitter = 2;
  const std::vector<Case> cases = {
      {"", "{}", "type", {}},
      {"has space", "{}", "type", {}},
      {"x", "{", "data", {}},
      {"x", "[1]", "data", {}},
      {"x", "{} trailing", "data", {}},
      {"x", R"({"a":{"b":{"c":{"d":{"e":1}}}}})", "data", {}},
      {"x", std::string(100, ' ') + "{}", "data", {}},
      {"x", "{}", "priority", bad_priority},
      {"x", "{}", "max_attempts", bad_attempts},
      {"x", "{}", "queue", bad_queue},
      {"x", "{}", "job_id", bad_id},
      {"x", "{}", "backoff.jitter", bad_jitter},
  };
  for (const Case& c : cases) {
    auto body = EncodeJobBody(c.type, c.data, c.options, limits);
    ASSERT_FALSE(body.ok()) << c.type << " " << c.data;
    EXPECT_EQ(body.status().field(), c.field) << body.status().ToString();
  }
}

TEST(JobCodecTest, NamesAllowTheDocumentedCharacters) {
  EXPECT_TRUE(ValidateName("queue", "image-resize_2.high").ok());
  EXPECT_FALSE(ValidateName("queue", "q:1").ok());
  EXPECT_FALSE(ValidateName("queue", std::string(65, 'a')).ok());
  EXPECT_TRUE(ValidateJobId("order:42").ok());
}

}  // namespace
}  // namespace taskq

namespace taskq {
namespace {

TEST(JobCodecTest, ValidatesWithoutReformattingTheData) {
  // whitespace around the object is fine, and the text is stored as the producer sent it
  auto body = EncodeJobBody("x", " {\"a\": [1, {\"b\": null}], \"s\": \"\\u00e9\"}\n", {}, {});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "{\"d\": {\"a\": [1, {\"b\": null}], \"s\": \"\\u00e9\"}\n}");
  EXPECT_FALSE(EncodeJobBody("x", "{\"a\":1,}", {}, {}).ok());
  EXPECT_FALSE(EncodeJobBody("x", "\"just a string\"", {}, {}).ok());
  EXPECT_FALSE(EncodeJobBody("x", "", {}, {}).ok());
}

}  // namespace
}  // namespace taskq
