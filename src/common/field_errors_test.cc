#include "common/field_errors.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

TEST(FieldErrorsTest, CollectsEveryInvalidFieldOnceInTheOrderFound) {
  FieldErrors errors;
  EXPECT_TRUE(errors.Add(Status::Ok()));
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(errors.Add(InvalidArgument("b", "first rule")));
  EXPECT_TRUE(errors.Add(InvalidArgument("a", "second rule")));
  EXPECT_TRUE(errors.Add(InvalidArgument("b", "found again")));  // one rule per field
  const Status s = std::move(errors).ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "b");
  EXPECT_EQ(s.message(), "first rule");
  ASSERT_EQ(s.more_fields().size(), 1u);
  EXPECT_EQ(s.more_fields()[0].field, "a");
  EXPECT_EQ(s.more_fields()[0].message, "second rule");
}

TEST(FieldErrorsTest, OtherErrorsAreNotCollectedAndNothingIsOk) {
  FieldErrors errors;
  EXPECT_FALSE(errors.Add(Status(StatusCode::kResourceExhausted, "too big", "jobs")));
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(std::move(errors).ToStatus().ok());
}

TEST(FieldErrorsTest, CheckSaysWhetherTheCheckHeldAndKeepsTheFirstOtherError) {
  FieldErrors errors;
  EXPECT_TRUE(errors.Check(Status::Ok()));
  EXPECT_FALSE(errors.Check(InvalidArgument("a", "bad")));
  EXPECT_FALSE(errors.Check(Internal("out of memory")));
  EXPECT_FALSE(errors.Check(Unavailable("later")));
  EXPECT_FALSE(errors.Check(InvalidArgument("b", "bad too")));
  const Status s = std::move(errors).ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kInternal);  // as it is, not folded into the fields
  EXPECT_EQ(s.message(), "out of memory");

  FieldErrors fields_only;
  EXPECT_FALSE(fields_only.Check(InvalidArgument("a", "bad")));
  EXPECT_FALSE(fields_only.Check(InvalidArgument("b", "bad too")));
  const Status both = std::move(fields_only).ToStatus();
  EXPECT_EQ(both.field(), "a");
  ASSERT_EQ(both.more_fields().size(), 1u);
  EXPECT_EQ(both.more_fields()[0].field, "b");
}

TEST(FieldErrorsTest, PrefixesEveryFieldAndKeepsAtMostTheLimit) {
  FieldErrors inner;
  ASSERT_TRUE(inner.Add(InvalidArgument("type", "is required")));
  ASSERT_TRUE(inner.Add(InvalidArgument("priority", "must be an integer")));
  const Status prefixed = WithFieldPrefix(std::move(inner).ToStatus(), "jobs[2].");
  EXPECT_EQ(prefixed.field(), "jobs[2].type");
  ASSERT_EQ(prefixed.more_fields().size(), 1u);
  EXPECT_EQ(prefixed.more_fields()[0].field, "jobs[2].priority");
  FieldErrors many;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(many.Add(InvalidArgument("f" + std::to_string(i), "bad")));
  }
  EXPECT_EQ(std::move(many).ToStatus().more_fields().size(), FieldErrors::kMaxKept - 1);
}

}  // namespace
}  // namespace taskq
