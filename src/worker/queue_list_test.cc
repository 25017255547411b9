// ParseQueueList: the --queues text of a worker.
#include <gtest/gtest.h>

#include "taskq/worker.h"

namespace taskq {
namespace {

TEST(QueueListTest, EachQueueHasItsConcurrencyAndIsolation) {
  auto queues = ParseQueueList("email=5,image-resize=2:process,cleanup,export:thread,x:process");
  ASSERT_TRUE(queues.ok()) << queues.status().ToString();
  ASSERT_EQ(queues->size(), 5u);
  const std::vector<std::tuple<std::string, int32_t, Isolation>> want = {
      {"email", 5, Isolation::kThread},   {"image-resize", 2, Isolation::kProcess},
      {"cleanup", 1, Isolation::kThread}, {"export", 1, Isolation::kThread},
      {"x", 1, Isolation::kProcess},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*queues)[i].queue, std::get<0>(want[i]));
    EXPECT_EQ((*queues)[i].concurrency, std::get<1>(want[i]));
    EXPECT_EQ((*queues)[i].isolation, std::get<2>(want[i]));
  }
}

TEST(QueueListTest, BadEntriesNameTheRule) {
  for (const char* text :
       {"", "a=0", "a=1001", "a=2:proc", "a=2:", "a:process:process", "a=x", "a,a:process", "=2"}) {
    auto queues = ParseQueueList(text);
    ASSERT_FALSE(queues.ok()) << text;
    EXPECT_EQ(queues.status().field(), "queues") << text;
  }
  EXPECT_NE(ParseQueueList("a=2:proc").status().message().find("thread or process"),
            std::string::npos);
}

TEST(QueueShardsTest, EachQueueHasItsShardsAndBadEntriesNameTheRule) {
  auto shards = ParseQueueShards("webhook=3,email=1");
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 2u);
  EXPECT_EQ((*shards)[0].queue, "webhook");
  EXPECT_EQ((*shards)[0].shards, 3);
  EXPECT_EQ((*shards)[1].queue, "email");
  EXPECT_EQ((*shards)[1].shards, 1);
  EXPECT_TRUE(ParseQueueShards("")->empty());
  for (const char* text : {"a", "a=0", "a=33", "a=x", "a=2,a=3", "=2", "a#1=2"}) {
    auto bad = ParseQueueShards(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.status().field(), "queue_shards") << text;
  }
}

}  // namespace
}  // namespace taskq
