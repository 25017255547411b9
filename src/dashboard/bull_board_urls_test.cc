#include "dashboard/bull_board_urls.h"

#include <gtest/gtest.h>

namespace taskq::dashboard {
namespace {

TEST(BullBoardUrlsTest, AQueuePathLandsOnTheQueueInTheNearestState) {
  EXPECT_EQ(BullBoardFragment("/queue/email", ""), "#/queues/email");
  EXPECT_EQ(BullBoardFragment("/queue/email/", ""), "#/queues/email");
  EXPECT_EQ(BullBoardFragment("/queue/email", "status=failed"), "#/queues/email?state=dead");
  EXPECT_EQ(BullBoardFragment("/queue/email", "page=2&status=delayed"),
            "#/queues/email?state=delayed");
  EXPECT_EQ(BullBoardFragment("/queue/email", "status=paused"), "#/queues/email?state=waiting");
  // Bull's parents waiting for their children are taskq's held flow parents.
  EXPECT_EQ(BullBoardFragment("/queue/email", "status=waiting-children"),
            "#/queues/email?state=held");
  EXPECT_EQ(BullBoardFragment("/queue/email", "status=latest"), "#/queues/email");
  EXPECT_EQ(BullBoardFragment("/queue/email", "status=nonsense"), "#/queues/email");
}

TEST(BullBoardUrlsTest, AJobPathLandsOnTheJob) {
  EXPECT_EQ(BullBoardFragment("/queue/email/0PKN3R2W8K5GH7TQ1ZMD", ""),
            "#/jobs/email/0PKN3R2W8K5GH7TQ1ZMD");
  // The request path arrives decoded; the fragment encodes what the route parser decodes.
  EXPECT_EQ(BullBoardFragment("/queue/image resize/a:b", ""), "#/jobs/image%20resize/a%3Ab");
}

TEST(BullBoardUrlsTest, OtherPathsAreNotBullBoards) {
  EXPECT_EQ(BullBoardFragment("/queues/email", ""), std::nullopt);
  EXPECT_EQ(BullBoardFragment("/queue/", ""), std::nullopt);
  EXPECT_EQ(BullBoardFragment("/queue", ""), std::nullopt);
  EXPECT_EQ(BullBoardFragment("/queue/email/1/logs", ""), std::nullopt);
  EXPECT_EQ(BullBoardFragment("/api/queues", ""), std::nullopt);
}

}  // namespace
}  // namespace taskq::dashboard
