#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace taskq {
namespace {

TEST(IdsTest, TwentyCharactersTimeOrdered) {
  std::string early = NewJobId(1000, ~0ull);
  std::string late = NewJobId(1001, 0);
  EXPECT_EQ(early.size(), 20u);
  EXPECT_LT(early, late);
  EXPECT_EQ(NewJobId(0, 0), "00000000000000000000");
}

TEST(IdsTest, GeneratedIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 100000; ++i) ids.insert(NewJobId());
  EXPECT_EQ(ids.size(), 100000u);
}

}  // namespace
}  // namespace taskq
