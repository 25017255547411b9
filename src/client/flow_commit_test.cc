#include "client/flow_commit.h"

#include <gtest/gtest.h>

#include "taskq/client.h"

namespace taskq::client {
namespace {

FlowJob Job(std::string ref, std::string parent, std::string type = "reports") {
  FlowJob job;
  job.ref = std::move(ref);
  job.parent = std::move(parent);
  job.job.type = std::move(type);
  return job;
}

TEST(FlowCommitTest, AFlowIdIsItsQueueAndItsKey) {
  auto address = ParseFlowId("image-resize.v2:nightly_2026-12-01");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->queue, "image-resize.v2");
  EXPECT_EQ(address->key, "nightly_2026-12-01");
  EXPECT_EQ(FlowIdOf(*address), "image-resize.v2:nightly_2026-12-01");
  EXPECT_EQ(FlowJobId(address->key, "a1"), "nightly_2026-12-01.a1");
}

TEST(FlowCommitTest, WhatIsNotAFlowIdIsRefusedNamingTheId) {
  for (const char* bad : {"email", ":key", "email:", "em{x}:key", "email:a.b", "email:a:b"}) {
    auto address = ParseFlowId(bad);
    ASSERT_FALSE(address.ok()) << bad;
    EXPECT_EQ(address.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(address.status().field(), "id") << bad;
  }
}

TEST(FlowCommitTest, JobsGoToTheirQueueOrTheQueueOfTheirType) {
  FlowRequest flow;
  flow.jobs = {Job("root", "", "export"), Job("a", "root", "email")};
  flow.jobs[1].job.options.queue = "export";
  auto queue = FlowQueueOf(flow);
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  EXPECT_EQ(*queue, "export");
}

TEST(FlowCommitTest, AFlowAcrossQueuesLivesInItsRootsQueue) {
  FlowRequest flow;
  flow.jobs = {Job("a", "root", "export"), Job("root", "", "email"), Job("b", "root", "email")};
  flow.jobs[2].job.options.queue = "mail.bulk";
  auto queue = FlowQueueOf(flow);
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  EXPECT_EQ(*queue, "email");  // the root's, wherever it is in the list
  flow.retention = std::chrono::hours(2);
  auto commit = BuildFlowCommit(flow, {*queue, "k1"}, JobLimits{});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  EXPECT_EQ(commit->retention, std::chrono::hours(2));
  // Each job of another queue names it; the root's queue's jobs name none.
  EXPECT_EQ(commit->jobs[0].queue, "export");
  EXPECT_EQ(commit->jobs[1].queue, "");
  EXPECT_EQ(commit->jobs[2].queue, "mail.bulk");
  auto body = DecodeJobBody(commit->jobs[0].job.body, "export");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->options.flow->flow_id, "email:k1");  // where its flow's record is
  EXPECT_TRUE(body->options.flow->across_queues);  // its finish goes through the outbox

  flow.jobs[2].job.options.queue = "-bad";
  auto bad = FlowQueueOf(flow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().field(), "jobs[2].queue");
}

TEST(FlowCommitTest, EachJobCarriesItsPlaceAndItsEnqueueOptions) {
  FlowRequest flow;
  flow.jobs = {Job("root", ""), Job("mid", "root"), Job("leaf", "mid")};
  flow.jobs[1].on_failure = ChildFailurePolicy::kContinue;
  EnqueueOptions& leaf = flow.jobs[2].job.options;
  leaf.priority = -5;
  leaf.delay = std::chrono::milliseconds(1500);
  leaf.group = "tenant-7";
  leaf.callback_url = "https://example.com/done";
  leaf.lifo = true;
  flow.jobs[0].job.options.run_at_ms = 1'900'000'000'000;
  auto commit = BuildFlowCommit(flow, {"reports", "k1"}, JobLimits{});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  EXPECT_EQ(commit->flow_key, "k1");
  ASSERT_EQ(commit->jobs.size(), 3u);

  const broker::FlowCommitJob& root = commit->jobs[0];
  EXPECT_EQ(root.job.id, "k1.root");
  EXPECT_EQ(root.parent, "");
  EXPECT_EQ(root.job.run_at_ms, 1'900'000'000'000);
  const broker::FlowCommitJob& mid = commit->jobs[1];
  EXPECT_EQ(mid.job.id, "k1.mid");
  EXPECT_EQ(mid.parent, "root");
  EXPECT_EQ(mid.on_failure, ChildFailurePolicy::kContinue);
  EXPECT_EQ(mid.job.run_at_ms, -1);
  const broker::FlowCommitJob& last = commit->jobs[2];
  EXPECT_EQ(last.job.priority, -5);
  EXPECT_EQ(last.job.delay_ms, 1500);
  EXPECT_EQ(last.job.group, "tenant-7");
  EXPECT_TRUE(last.job.hooked);
  EXPECT_TRUE(last.job.lifo);
  EXPECT_FALSE(last.job.unique);
  EXPECT_FALSE(mid.job.hooked);

  // The body carries the place the worker and the job's JSON read back.
  auto body = DecodeJobBody(mid.job.body, "reports");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  ASSERT_TRUE(body->options.flow.has_value());
  EXPECT_EQ(*body->options.flow,
            (FlowPlace{"reports:k1", "mid", "root", ChildFailurePolicy::kContinue, true}));
  auto leaf_body = DecodeJobBody(last.job.body, "reports");
  ASSERT_TRUE(leaf_body.ok());
  ASSERT_TRUE(leaf_body->options.flow.has_value());
  EXPECT_FALSE(leaf_body->options.flow->has_children);
  EXPECT_EQ(leaf_body->options.priority, -5);
  auto root_body = DecodeJobBody(root.job.body, "reports");
  ASSERT_TRUE(root_body.ok());
  ASSERT_TRUE(root_body->options.flow.has_value());
  EXPECT_TRUE(root_body->options.flow->has_children);
  EXPECT_FALSE(root_body->options.flow->across_queues);  // every job in "reports"
  EXPECT_EQ(root_body->options.flow->parent, "");
}

TEST(FlowCommitTest, ABadJobIsNamedByItsPlaceInTheFlow) {
  FlowRequest flow;
  flow.jobs = {Job("root", ""), Job("a", "root")};
  flow.jobs[1].job.data_json = "[1,2]";
  auto commit = BuildFlowCommit(flow, {"reports", "k1"}, JobLimits{});
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(commit.status().field(), "jobs[1].data");
}

// The client checks everything before it connects: these need no Redis (nothing listens on 1).
std::unique_ptr<Client> UnconnectedClient() {
  auto client = Client::Open({"redis://127.0.0.1:1"});
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(FlowCommitTest, AJobEnqueuedOnItsOwnCannotClaimAPlaceInAFlow) {
  auto client = UnconnectedClient();
  ASSERT_NE(client, nullptr);
  EnqueueRequest request{"report", "{}", {}};
  request.options.flow = FlowPlace{"reports:k1", "a", "root", ChildFailurePolicy::kFail, false};
  auto result = client->Enqueue(request);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().field(), "flow");
}

TEST(FlowCommitTest, SubmitFlowRefusesBadFlowsBeforeWritingAnything) {
  auto client = UnconnectedClient();
  ASSERT_NE(client, nullptr);
  FlowRequest bad_queue;
  bad_queue.jobs = {Job("root", "", "export"), Job("a", "root", "email")};
  bad_queue.jobs[1].job.options.queue = "no spaces";
  auto result = client->SubmitFlow(bad_queue);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().field(), "jobs[1].queue");

  FlowRequest bad_key;
  bad_key.flow_id = "has.dot";
  bad_key.jobs = {Job("root", "")};
  result = client->SubmitFlow(bad_key);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().field(), "flow_id");

  FlowRequest no_root;
  no_root.jobs = {Job("a", "b"), Job("b", "a")};
  result = client->SubmitFlow(no_root);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);

  auto cancel = client->CancelFlow("no-colon");
  ASSERT_FALSE(cancel.ok());
  EXPECT_EQ(cancel.status().field(), "id");
}

TEST(FlowCommitTest, AFlowOrBatchOverWhatOneScriptCallTakesCannotBeConfigured) {
  ClientOptions options;
  options.flow_limits.max_jobs = kMaxBulkJobs + 1;
  auto client = Client::Open(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().field(), "flow_limits.max_jobs");
  options = ClientOptions();
  options.batch_limits.max_jobs = kMaxBatchJobs;
  EXPECT_TRUE(Client::Open(options).ok());
  options.batch_limits.max_jobs = kMaxBatchJobs + 1;
  client = Client::Open(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().field(), "batch_limits.max_jobs");
}

}  // namespace
}  // namespace taskq::client
