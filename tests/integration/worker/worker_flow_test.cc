// A flow parent's handler reads its children's outcomes (JobContext::children), which the worker
// reads once before the handler runs. The flow's results hash is seeded here as the flow scripts
// leave it, so the worker's side is tested on its own.
#include <map>
#include <mutex>
#include <vector>

#include "broker/broker.h"
#include "broker/keys.h"
#include "common/job_codec.h"
#include "worker_fixture.h"

namespace taskq::testing {
namespace {

// A job of flow "q:k" written as the flow's commit writes it: id "k.<ref>", its place in the body.
void EnqueueFlowJob(const std::string& url, const std::string& ref, bool has_children) {
  EnqueueOptions options;
  options.queue = "q";  // the body names its type only when it differs from the queue
  options.flow =
      FlowPlace{"q:k", ref, has_children ? "" : "root", ChildFailurePolicy::kFail, has_children};
  auto body = EncodeJobBody("t", "{}", options, JobLimits{});
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto broker = broker::OpenBroker({url, "taskq"});
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  broker::NewJob job;
  job.id = "k." + ref;
  job.body = std::move(*body);
  auto enqueued = (*broker)->Enqueue("q", std::vector<broker::NewJob>{job});
  ASSERT_TRUE(enqueued.ok()) << enqueued.status().ToString();
}

TEST_F(WorkerTest, AFlowParentsHandlerReadsItsChildrenAndOtherJobsReadNone) {
  // "c<result>" for a completed child, "d<error>" for a dead one whose policy is continue.
  auto connection = server_->Connect();
  auto seeded = connection->Run(
      broker::Command{"HSET", broker::QueueKeys("taskq", "q").flow_results("k", "root"), "b",
                      R"(d"disk full")", "a", R"(c{"rows":3})"});
  ASSERT_TRUE(seeded.ok());
  EnqueueFlowJob(server_->url(), "root", /*has_children=*/true);
  const std::string plain = Enqueue();

  std::mutex mu;
  std::map<std::string, std::vector<FlowChild>> seen;  // by job id
  Worker worker(Options("q=2"));
  worker.Register("t", [&](JobContext& job) {
    std::lock_guard lock(mu);
    seen[job.id()] = job.children();
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard lock(mu);
    return seen.size() == 2;
  }));
  worker.Stop();

  const std::vector<FlowChild>& children = seen["k.root"];
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].ref, "a");  // by ref
  EXPECT_EQ(children[0].id, "k.a");
  EXPECT_TRUE(children[0].completed);
  EXPECT_EQ(children[0].json, R"({"rows":3})");
  EXPECT_EQ(children[1].ref, "b");
  EXPECT_FALSE(children[1].completed);
  EXPECT_EQ(children[1].json, R"("disk full")");
  EXPECT_TRUE(seen[plain].empty());
}

}  // namespace
}  // namespace taskq::testing
