#include "client/batch_commit.h"

#include <gtest/gtest.h>

#include "testing/errors_by_field.h"

namespace taskq::client {
namespace {

using taskq::testing::ErrorsByField;

EnqueueRequest Job(std::string type = "report", std::string queue = "") {
  EnqueueRequest job{std::move(type), "{}", {}};
  job.options.queue = std::move(queue);
  return job;
}

BatchRequest Batch(size_t members) {
  BatchRequest batch;
  batch.jobs.assign(members, Job());
  return batch;
}

std::vector<std::string> Fields(const Status& s) {
  std::vector<std::string> out;
  for (const auto& [field, rule] : ErrorsByField(s)) out.push_back(field);
  return out;
}

TEST(BatchCommitTest, EveryJobAndCallbackMustBeInTheFirstJobsQueue) {
  BatchRequest batch = Batch(4);
  batch.jobs[1] = Job("email", "report");  // its queue is the batch's: fine
  batch.jobs[3] = Job("email");            // the queue of its type differs
  batch.on_success = Job("report", "elsewhere");
  const auto errors = ErrorsByField(ValidateBatch(batch, {}));
  ASSERT_EQ(Fields(ValidateBatch(batch, {})),
            (std::vector<std::string>{"jobs[3].type", "on_success.queue"}));
  EXPECT_NE(errors.at("jobs[3].type")
                .find("every job of a batch must be in one queue: 'report' "
                      "(from jobs[0]), not 'email'"),
            std::string::npos)
      << errors.at("jobs[3].type");
}

TEST(BatchCommitTest, JobIdsUniqueKeysAndBadIdsAreRefusedAllAtOnce) {
  BatchRequest batch = Batch(3);
  batch.batch_id = "has.dot";
  batch.jobs[0].options.job_id = "mine";
  batch.jobs[2].options.unique = UniqueOptions{};
  batch.on_complete = Job();
  batch.on_complete->options.job_id = "x";
  batch.retention = std::chrono::milliseconds(-1);
  EXPECT_EQ(Fields(ValidateBatch(batch, {})),
            (std::vector<std::string>{"batch_id", "jobs[0].job_id", "jobs[2].unique",
                                      "on_complete.job_id", "retention_ms"}));
}

TEST(BatchCommitTest, OnlyAnOpenBatchMayStartEmpty) {
  BatchRequest batch;
  batch.on_complete = Job();
  EXPECT_EQ(Fields(ValidateBatch(batch, {})), (std::vector<std::string>{"jobs"}));
  batch.open = true;
  EXPECT_TRUE(ValidateBatch(batch, {}).ok());
  auto queue = BatchQueueOf(batch);
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  EXPECT_EQ(*queue, "report");  // from the callback
}

TEST(BatchCommitTest, TheLimitsNameTheListAndNothingInsideIt) {
  BatchLimits limits;
  limits.max_jobs = 3;
  BatchRequest batch = Batch(4);
  batch.jobs[2].options.job_id = "not named: the list is over the limit";
  auto s = ValidateBatch(batch, limits);
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"jobs"}));
  EXPECT_NE(s.message().find("holds 4 jobs; a batch request holds at most 3"), std::string::npos)
      << s.message();
  limits.max_jobs = 10;
  limits.max_data_bytes = 7;  // four jobs of "{}"
  EXPECT_EQ(Fields(ValidateBatch(Batch(4), limits)), (std::vector<std::string>{"jobs"}));
  limits.max_data_bytes = 8;
  EXPECT_TRUE(ValidateBatch(Batch(4), limits).ok());
}

TEST(BatchCommitTest, AnAdditionsJobsMustGoToTheBatchsQueue) {
  BatchAddition addition;
  addition.addition_id = "a.b";
  addition.jobs = {Job("report"), Job("email")};
  auto s = ValidateBatchAddition(addition, "report", {});
  EXPECT_EQ(Fields(s), (std::vector<std::string>{"addition_id", "jobs[1].type"}));
  EXPECT_EQ(Fields(ValidateBatchAddition({"a1", {}}, "report", {})),
            (std::vector<std::string>{"jobs"}));
  EXPECT_TRUE(ValidateBatchAddition({"", {Job("email", "report")}}, "report", {}).ok());
}

TEST(BatchCommitTest, MembersAndCallbacksCarryTheirPlaceInTheBatch) {
  BatchRequest batch = Batch(2);
  batch.jobs[1].options.priority = 7;
  batch.jobs[1].options.delay = std::chrono::milliseconds(250);
  batch.on_complete = Job("summary", "report");
  batch.open = true;
  batch.retention = std::chrono::hours(1);
  auto commit = BuildBatchCommit(batch, {"report", "k1"}, JobLimits{});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  EXPECT_EQ(commit->batch_key, "k1");
  EXPECT_EQ(commit->addition, "");
  EXPECT_TRUE(commit->open);
  EXPECT_EQ(commit->retention, std::chrono::hours(1));
  ASSERT_EQ(commit->members.size(), 2u);
  EXPECT_EQ(commit->members[0].id, "k1.0");
  EXPECT_EQ(commit->members[1].id, "k1.1");
  EXPECT_EQ(commit->members[1].priority, 7);
  EXPECT_EQ(commit->members[1].delay_ms, 250);
  ASSERT_TRUE(commit->on_complete);
  EXPECT_EQ(commit->on_complete->id, "k1.on_complete");
  EXPECT_FALSE(commit->on_success);

  auto member = DecodeJobBody(commit->members[1].body, "report");
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  FlowPlace member_place{"report:k1", "1", "*"};
  member_place.batch = true;
  EXPECT_EQ(member->options.flow, member_place);
  auto callback = DecodeJobBody(commit->on_complete->body, "report");
  ASSERT_TRUE(callback.ok()) << callback.status().ToString();
  EXPECT_EQ(callback->type, "summary");
  FlowPlace callback_place{"report:k1", "on_complete", "^"};
  callback_place.has_children = true;  // it reads its batch's counts
  callback_place.batch = true;
  EXPECT_EQ(callback->options.flow, callback_place);
}

TEST(BatchCommitTest, AnAdditionsMembersAreNamedAfterIt) {
  BatchAddition addition{"a7", {Job(), Job()}};
  auto commit = BuildBatchAddition(addition, "a7", {"report", "k1"}, JobLimits{});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  EXPECT_EQ(commit->addition, "a7");
  ASSERT_EQ(commit->members.size(), 2u);
  EXPECT_EQ(commit->members[1].id, "k1.a7-1");
  auto body = DecodeJobBody(commit->members[1].body, "report");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->options.flow->ref, "a7-1");
}

TEST(BatchCommitTest, ABadJobIsNamedByItsPlaceInTheBatch) {
  BatchRequest batch = Batch(2);
  batch.jobs[1].data_json = "[1]";
  batch.on_success = Job();
  batch.on_success->data_json = "7";
  auto commit = BuildBatchCommit(batch, {"report", "k1"}, JobLimits{});
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().field(), "jobs[1].data");
  batch.jobs[1].data_json = "{}";
  commit = BuildBatchCommit(batch, {"report", "k1"}, JobLimits{});
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().field(), "on_success.data");
}

TEST(BatchCommitTest, SubmitBatchChecksEverythingBeforeItConnects) {
  auto client = Client::Open({"redis://127.0.0.1:1"});  // nothing listens there
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  BatchRequest batch = Batch(1);
  batch.jobs[0].options.job_id = "x";
  auto submitted = (*client)->SubmitBatch(batch);
  ASSERT_FALSE(submitted.ok());
  EXPECT_EQ(submitted.status().field(), "jobs[0].job_id");
  auto added = (*client)->AddToBatch("no-colon", {"", {Job()}});
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().field(), "id");
  added = (*client)->AddToBatch("report:k1", {"", {Job("email")}});
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().field(), "jobs[0].type");
}

}  // namespace
}  // namespace taskq::client
