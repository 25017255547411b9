#include <gtest/gtest.h>

#include "taskq/inspector.h"

namespace taskq {
namespace {

Job MakeJob(std::string type, std::string data_json, std::string error = {}) {
  Job job;
  job.type = std::move(type);
  job.data_json = std::move(data_json);
  if (!error.empty()) job.errors.push_back({1, 0, std::move(error)});
  return job;
}

JobFilter Field(std::vector<std::string> path, std::string value) {
  JobFilter f;
  f.field = std::move(path);
  f.value = std::move(value);
  return f;
}

TEST(JobFilterTest, EmptyFilterMatchesEveryJob) {
  EXPECT_TRUE(JobFilter().empty());
  EXPECT_TRUE(JobFilter().Matches(MakeJob("t", "{}")));
}

TEST(JobFilterTest, TypeIsExact) {
  JobFilter f;
  f.type = "email";
  EXPECT_TRUE(f.Matches(MakeJob("email", "{}")));
  EXPECT_FALSE(f.Matches(MakeJob("emails", "{}")));
  EXPECT_FALSE(f.Matches(MakeJob("Email", "{}")));
}

TEST(JobFilterTest, ErrorIsACaseInsensitiveSubstringOfTheLatestError) {
  JobFilter f;
  f.error = "TIMED out";
  EXPECT_TRUE(f.Matches(MakeJob("t", "{}", "connect: timed OUT after 5s")));
  EXPECT_FALSE(f.Matches(MakeJob("t", "{}", "refused")));
  EXPECT_FALSE(f.Matches(MakeJob("t", "{}")));  // never failed
  Job older = MakeJob("t", "{}", "refused");
  older.errors.push_back({0, 0, "timed out"});  // newest first: only the first counts
  EXPECT_FALSE(f.Matches(older));
}

TEST(JobFilterTest, FieldStringsEqualTheTextOtherValuesTheirCompactJson) {
  const Job job = MakeJob(
      "t", R"({"to":"a@x.org","n":42,"ok":true,"none":null,"c":{"email":"c@x.org"},"l":[1, 2]})");
  EXPECT_TRUE(Field({"to"}, "a@x.org").Matches(job));
  EXPECT_FALSE(Field({"to"}, "\"a@x.org\"").Matches(job));
  EXPECT_TRUE(Field({"n"}, "42").Matches(job));
  EXPECT_TRUE(Field({"ok"}, "true").Matches(job));
  EXPECT_TRUE(Field({"none"}, "null").Matches(job));
  EXPECT_TRUE(Field({"c", "email"}, "c@x.org").Matches(job));
  EXPECT_TRUE(Field({"c"}, R"({"email":"c@x.org"})").Matches(job));
  EXPECT_TRUE(Field({"l"}, "[1,2]").Matches(job));
  EXPECT_FALSE(Field({"missing"}, "").Matches(job));
  EXPECT_FALSE(Field({"to", "deeper"}, "a@x.org").Matches(job));  // not an object
  EXPECT_FALSE(Field({"n"}, "43").Matches(job));
}

TEST(JobFilterTest, AllCriteriaMustHold) {
  JobFilter f = Field({"to"}, "a@x.org");
  f.type = "email";
  EXPECT_TRUE(f.Matches(MakeJob("email", R"({"to":"a@x.org"})")));
  EXPECT_FALSE(f.Matches(MakeJob("sms", R"({"to":"a@x.org"})")));
}

TEST(JobFilterTest, LimitsNameTheField) {
  JobFilter f;
  f.error = std::string(257, 'e');
  EXPECT_EQ(f.Validate().field(), "error");
  f = Field({"a"}, std::string(257, 'v'));
  EXPECT_EQ(f.Validate().field(), "value");
  f = Field({"a", "b", "c", "d", "e", "f", "g", "h", "i"}, "1");
  EXPECT_EQ(f.Validate().field(), "field");
  f.field.pop_back();
  EXPECT_TRUE(f.Validate().ok());
  f = Field({"a", ""}, "1");
  EXPECT_EQ(f.Validate().field(), "field");
  f = JobFilter();
  f.type = "no spaces";
  EXPECT_EQ(f.Validate().field(), "type");
}

}  // namespace
}  // namespace taskq
