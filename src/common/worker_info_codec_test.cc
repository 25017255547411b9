#include "common/worker_info_codec.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

TEST(WorkerInfoCodecTest, RoundTripsThroughTheStoredForm) {
  WorkerInfo info;
  info.id = "host-1:42:ab12";
  info.host = "host-1";
  info.pid = 42;
  info.queues = {{"email", 5, 2}, {"webhook", 10, 0}, {"image-resize", 2, 1, true, 2}};
  info.job_types = {"email", "webhook"};
  info.started_ms = 1700000000000;
  info.completed = 7;
  info.failed = 1;
  std::string stored = EncodeWorkerInfo(info);
  ASSERT_EQ(stored.front(), '{');
  EXPECT_EQ(stored.find("\"hb\""), std::string::npos);  // Redis adds it
  stored = "{\"hb\":1700000005000," + stored.substr(1);
  auto decoded = DecodeWorkerInfo(stored);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->id, info.id);
  EXPECT_EQ(decoded->pid, 42);
  ASSERT_EQ(decoded->queues.size(), 3u);
  EXPECT_EQ(decoded->queues[0].queue, "email");
  EXPECT_EQ(decoded->queues[0].concurrency, 5);
  EXPECT_EQ(decoded->queues[0].running, 2);
  EXPECT_FALSE(decoded->queues[0].isolated);
  EXPECT_TRUE(decoded->queues[2].isolated);
  EXPECT_EQ(decoded->queues[2].processes, 2);
  EXPECT_EQ(decoded->job_types, info.job_types);
  EXPECT_EQ(decoded->completed, 7);
  EXPECT_EQ(decoded->heartbeat_ms, 1700000005000);
  const std::string rendered = WorkerInfoJson(*decoded, 1700000006500);
  EXPECT_NE(rendered.find("\"heartbeat_age_ms\":1500"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("\"running\":3"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find(R"({"queue":"email","concurrency":5,"running":2,"isolation":"thread"})"),
            std::string::npos)
      << rendered;
  EXPECT_NE(rendered.find(R"("isolation":"process","processes":2})"), std::string::npos)
      << rendered;
}

TEST(WorkerInfoCodecTest, RejectsWhatIsNotAnObject) {
  EXPECT_FALSE(DecodeWorkerInfo("[1]").ok());
  EXPECT_FALSE(DecodeWorkerInfo("{").ok());
}

}  // namespace
}  // namespace taskq
