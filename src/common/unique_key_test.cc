#include "common/unique_key.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

// Known answers (printf 'email\0{"to":"a@b.c"}' | sha256sum): a producer in another language can
// compute the same key.
TEST(UniqueKeyTest, DerivedKeyIsTheHexSha256OfTypeNulData) {
  auto key = DeriveUniqueKey("email", R"({"to":"a@b.c"})");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, "c49945962f831280e8246e3ed16205b1d6e934c0c7741456ba6a8c069c151638");
  EXPECT_EQ(*DeriveUniqueKey("t", "{}"),
            "c277c62dc4a00825f5e8ddbaf449c64e79a4f665924f450da81a9c31e7a392eb");
}

TEST(UniqueKeyTest, TypeAndDataAreKeptApart) {
  // Without the separator these two would hash the same text "ab{}".
  EXPECT_NE(*DeriveUniqueKey("ab", "{}"), *DeriveUniqueKey("a", "b{}"));
  EXPECT_NE(*DeriveUniqueKey("t", R"({"a":1})"), *DeriveUniqueKey("t", R"({"a": 1})"));
}

TEST(UniqueKeyTest, ModeNamesRoundTrip) {
  for (auto mode : {UniqueOptions::Mode::kUntilCompleted, UniqueOptions::Mode::kTtl,
                    UniqueOptions::Mode::kDebounce}) {
    EXPECT_EQ(ParseUniqueMode(UniqueModeName(mode)), mode);
  }
  EXPECT_FALSE(ParseUniqueMode("forever"));
  EXPECT_FALSE(ParseUniqueMode(""));
}

}  // namespace
}  // namespace taskq
