#include "broker/state_record.h"

#include <gtest/gtest.h>

namespace taskq::broker {
namespace {

TEST(StateRecordTest, ReadsEveryFieldAndWritesItBackTheSame) {
  const std::string text = "active:2:1:1700000000123:0:-5:k3x9:1";
  const std::optional<StateRecord> r = ParseStateRecord(text);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, "active");
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(r->stalls, 1);
  EXPECT_EQ(r->started_ms, 1700000000123);
  EXPECT_EQ(r->finished_ms, 0);
  EXPECT_EQ(r->priority, -5);
  EXPECT_EQ(r->token, "k3x9");
  EXPECT_TRUE(r->cancel_requested);
  EXPECT_EQ(EncodeStateRecord(*r), text);
}

TEST(StateRecordTest, EmptyStateAndTokenAreFieldsToo) {
  const std::optional<StateRecord> r = ParseStateRecord(":0:0:0:0:0::0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, "");
  EXPECT_EQ(r->token, "");
  EXPECT_FALSE(r->cancel_requested);
  EXPECT_EQ(EncodeStateRecord(*r), ":0:0:0:0:0::0");
}

TEST(StateRecordTest, RefusesWhatTheScriptsWouldNotRead) {
  for (const char* bad :
       {"", "waiting:0:0:0:0:0:", "waiting:0:0:0:0:0::0:extra", "waiting:x:0:0:0:0::0",
        "waiting:-1:0:0:0:0::0", "waiting:0:0:0:0:0::2", "wait1ng:0:0:0:0:0::0",
        "waiting:0:0:0:0:--1::0", "waiting:0:0:0:0:::0", "waiting:0:0:0:0:0:a-b:0"}) {
    EXPECT_FALSE(ParseStateRecord(bad)) << bad;
  }
}

}  // namespace
}  // namespace taskq::broker
