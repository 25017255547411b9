// A real redis-server per test, a Client and an Inspector on it, and worker options suited to
// tests (short leases so expiry-driven paths finish quickly).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "taskq/client.h"
#include "taskq/inspector.h"
#include "taskq/worker.h"
#include "testing/redis_server.h"
#include "testing/wait.h"

namespace taskq::testing {

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RedisServer>(server_options_);
    client_ = std::move(*Client::Open({server_->url()}));
    inspector_ = std::move(*Inspector::Open({server_->url()}));
  }

  WorkerOptions Options(std::string queues = "q=4") {
    WorkerOptions o;
    o.redis_url = server_->url();
    o.queues = *ParseQueueList(queues);
    o.lease = std::chrono::milliseconds(600);
    o.recover_interval = std::chrono::milliseconds(100);
    o.shutdown_grace = std::chrono::milliseconds(2000);
    return o;
  }

  std::string Enqueue(std::string data = "{}", EnqueueOptions options = {},
                      std::string type = "t") {
    if (options.queue.empty()) options.queue = "q";
    auto result = client_->Enqueue({std::move(type), std::move(data), std::move(options)});
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->id : "";
  }

  Job GetJob(const std::string& id, const std::string& queue = "q") {
    auto job = client_->Get(queue, id);
    EXPECT_TRUE(job.ok() && job->has_value()) << id;
    return job.ok() && job->has_value() ? **job : Job{};
  }

  bool WaitForState(const std::string& id, JobState state,
                    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    return WaitUntil(
        [&] {
          auto job = client_->Get("q", id);
          return job.ok() && job->has_value() && (*job)->state == state;
        },
        limit);
  }

  // Redis' clock in ms (the clock due times and leases use).
  int64_t RedisNowMs() {
    auto connection = server_->Connect();
    auto t = connection->Run(broker::Command{"TIME"});
    return std::stoll(std::string(t->view()[0].str())) * 1000 +
           std::stoll(std::string(t->view()[1].str())) / 1000;
  }

  RedisServerOptions server_options_;
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Inspector> inspector_;
};

}  // namespace taskq::testing
