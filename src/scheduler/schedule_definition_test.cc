#include "scheduler/schedule_definition.h"

#include <gtest/gtest.h>

#include "common/field_errors.h"

namespace taskq::scheduler {
namespace {

TEST(ScheduleDefinitionTest, ParsesEveryFieldAndEncodesCanonically) {
  auto d = ParseScheduleDefinition(R"({"id":"nightly","cron":"0 3 * * *","tz":"Europe/Berlin",
      "type":"email","queue":"mail","data":{"to":"a@example.com"},
      "options":{"priority":-5,"max_attempts":7,"backoff":{"type":"fixed","delay_ms":50},
                 "timeout_ms":900,"retention":{"completed":{"count":5}}},
      "start_ms":1000,"end_ms":2000,"max_runs":3,"missed":{"catch_up":4},"paused":true})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->id, "nightly");
  EXPECT_EQ(d->tz, "Europe/Berlin");
  EXPECT_EQ(d->job_queue(), "mail");
  EXPECT_EQ(d->options.priority, -5);
  EXPECT_EQ(d->options.max_attempts, 7);
  EXPECT_EQ(d->options.backoff.type, BackoffType::kFixed);
  EXPECT_EQ(d->options.keep_completed.count, 5);
  EXPECT_EQ(*d->start_ms, 1000);
  EXPECT_EQ(*d->end_ms, 2000);
  EXPECT_EQ(d->max_runs, 3);
  EXPECT_EQ(d->catch_up, 4);
  EXPECT_EQ(d->paused, true);
  const std::string stored = EncodeScheduleDefinition(*d);
  EXPECT_EQ(stored.find("paused"), std::string::npos);
  auto again = ParseScheduleDefinition(stored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(EncodeScheduleDefinition(*again), stored);
  EXPECT_FALSE(again->paused.has_value());
}

TEST(ScheduleDefinitionTest, DefaultsAreUtcSkipAndNoLimit) {
  auto d = ParseScheduleDefinition(R"({"cron":"@hourly","type":"cleanup"})", "hourly");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->id, "hourly");
  EXPECT_EQ(d->tz, "UTC");
  EXPECT_EQ(d->job_queue(), "cleanup");
  EXPECT_EQ(d->catch_up, 0);
  EXPECT_EQ(d->max_runs, 0);
  EXPECT_NE(EncodeScheduleDefinition(*d).find(R"("missed":"skip")"), std::string::npos);
}

TEST(ScheduleDefinitionTest, ErrorsNameTheField) {
  struct Case {
    std::string body, field, message_part;
  };
  const std::vector<Case> cases = {
      {R"({"id":"a","cron":"0 25 * * *","type":"x"})", "cron", "position 3"},
      {R"({"id":"a","type":"x"})", "cron", "required"},
      {R"({"id":"a","cron":"@daily","tz":"Mars/Olympus","type":"x"})", "tz", ""},
      {R"({"id":"a","cron":"@daily"})", "type", "required"},
      {R"({"cron":"@daily","type":"x"})", "id", "required"},
      {R"({"id":"a b","cron":"@daily","type":"x"})", "id", ""},
      {R"({"id":"a","cron":"@daily","type":"x","when":1})", "when", "unknown"},
      {R"({"id":"a","cron":"@daily","type":"x","data":[1]})", "data", "object"},
      {R"({"id":"a","cron":"@daily","type":"x","options":{"priority":9999999}})",
       "options.priority", ""},
      {R"({"id":"a","cron":"@daily","type":"x","options":{"delay_ms":5}})", "options.delay_ms",
       "unknown"},
      {R"({"id":"a","cron":"@daily","type":"x","options":{"backoff":{"delay_ms":9,
          "max_delay_ms":1}}})",
       "options.backoff", ""},
      {R"({"id":"a","cron":"@daily","type":"x","missed":"later"})", "missed", ""},
      {R"({"id":"a","cron":"@daily","type":"x","missed":{"catch_up":0}})", "missed.catch_up", ""},
      {R"({"id":"a","cron":"@daily","type":"x","start_ms":5,"end_ms":4})", "end_ms", ""},
      {R"({"id":"a","cron":"@daily","type":"x","max_runs":-1})", "max_runs", ""},
      {R"({"id":"a","cron":"@daily","type":"x","paused":"yes"})", "paused", ""},
      {R"({"id":"a","cron":"@daily","type":"x","queue":"{q}"})", "queue", ""},
  };
  for (const Case& c : cases) {
    auto d = ParseScheduleDefinition(c.body);
    ASSERT_FALSE(d.ok()) << c.body;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(d.status().field(), c.field) << c.body << ": " << d.status().ToString();
    EXPECT_NE(d.status().message().find(c.message_part), std::string::npos)
        << d.status().ToString();
  }
  auto mismatch = ParseScheduleDefinition(R"({"id":"b","cron":"@daily","type":"x"})", "a");
  EXPECT_EQ(mismatch.status().field(), "id");
  auto malformed = ParseScheduleDefinition("{");
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(malformed.status().field().empty());
}

TEST(ScheduleDefinitionTest, NamesEveryInvalidField) {
  auto d = ParseScheduleDefinition(
      R"({"id":"a b","cron":"0 25 * * *","tz":"Mars/Olympus",
          "options":{"priority":9999999,"delay_ms":5},"max_runs":-1,"when":1})");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldNames(d.status()),
            (std::vector<std::string>{"options.priority", "options.delay_ms", "max_runs", "when",
                                      "id", "cron", "tz", "type"}));
  // An end_ms out of range is named once, not compared with start_ms too.
  d = ParseScheduleDefinition(
      R"({"id":"a","cron":"@daily","type":"x","start_ms":5,"end_ms":99999999999999})");
  EXPECT_EQ(FieldNames(d.status()), std::vector<std::string>{"end_ms"});
}

TEST(ScheduleDefinitionTest, JobCheckAddsItsFieldsWhenTypeAndDataAreWellFormed) {
  int calls = 0;
  const JobCheck check = [&calls](const EnqueueRequest& job) {
    ++calls;
    EXPECT_EQ(job.type, "email");
    return InvalidArgument("data.to", "is required");
  };
  auto d =
      ParseScheduleDefinition(R"({"id":"a","cron":"nope","type":"email","data":{}})", "", check);
  EXPECT_EQ(FieldNames(d.status()), (std::vector<std::string>{"cron", "data.to"}));
  EXPECT_EQ(calls, 1);
  d = ParseScheduleDefinition(R"({"id":"a","cron":"@daily","type":"no such!","data":{}})", "",
                              check);
  EXPECT_EQ(FieldNames(d.status()), std::vector<std::string>{"type"});
  d = ParseScheduleDefinition(R"({"id":"a","cron":"@daily","type":"email","data":[]})", "", check);
  EXPECT_EQ(FieldNames(d.status()), std::vector<std::string>{"data"});
  EXPECT_EQ(calls, 1);
  // Any other error of the check is the answer as it is.
  d = ParseScheduleDefinition(R"({"id":"a","cron":"nope","type":"email"})", "",
                              [](const EnqueueRequest&) { return Unavailable("later"); });
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace taskq::scheduler
