#include "api/query.h"

#include <gtest/gtest.h>

namespace taskq::api {
namespace {

TEST(QueryTest, ReplaceQueryParamDropsEveryOccurrenceAndAppendsTheValue) {
  EXPECT_EQ(ReplaceQueryParam("", "cursor", "50"), "cursor=50");
  EXPECT_EQ(ReplaceQueryParam("state=dead&limit=50", "cursor", "50"),
            "state=dead&limit=50&cursor=50");
  EXPECT_EQ(ReplaceQueryParam("cursor=0&state=dead&cursor=9&&type=e%20x", "cursor", "100"),
            "state=dead&type=e%20x&cursor=100");
  // A parameter whose name only starts like it is kept.
  EXPECT_EQ(ReplaceQueryParam("cursors=1&cursor", "cursor", "2"), "cursors=1&cursor=2");
}

}  // namespace
}  // namespace taskq::api
