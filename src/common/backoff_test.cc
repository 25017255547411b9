#include <gtest/gtest.h>

#include "taskq/retry_policy.h"

namespace taskq {
namespace {
using std::chrono::milliseconds;

TEST(BackoffTest, ExponentialDoublesUpToTheCap) {
  BackoffPolicy p{BackoffType::kExponential, milliseconds(100), milliseconds(1000), 0.0};
  EXPECT_EQ(BackoffDelay(p, 1, 0.5), milliseconds(100));
  EXPECT_EQ(BackoffDelay(p, 2, 0.5), milliseconds(200));
  EXPECT_EQ(BackoffDelay(p, 4, 0.5), milliseconds(800));
  EXPECT_EQ(BackoffDelay(p, 5, 0.5), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(p, 500, 0.5), milliseconds(1000));  // no overflow
}

TEST(BackoffTest, JitterDrawsBelowTheFullDelay) {
  BackoffPolicy p{BackoffType::kExponential, milliseconds(1000), milliseconds(100000), 0.5};
  EXPECT_EQ(BackoffDelay(p, 1, 0.0), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(p, 1, 0.999999), milliseconds(500));
  EXPECT_EQ(BackoffDelay(p, 2, 0.5), milliseconds(1500));
}

TEST(BackoffTest, FixedAndNone) {
  BackoffPolicy fixed{BackoffType::kFixed, milliseconds(250), milliseconds(1000), 0.9};
  EXPECT_EQ(BackoffDelay(fixed, 1, 0.7), milliseconds(250));
  EXPECT_EQ(BackoffDelay(fixed, 9, 0.7), milliseconds(250));
  BackoffPolicy none{BackoffType::kNone, milliseconds(250), milliseconds(1000), 0.0};
  EXPECT_EQ(BackoffDelay(none, 3, 0.1), milliseconds(0));
}

}  // namespace
}  // namespace taskq
