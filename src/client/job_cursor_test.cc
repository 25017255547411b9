#include "taskq/job_cursor.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

TEST(JobCursorTest, OffsetsAreDecimalDigits) {
  EXPECT_EQ(JobCursor::AtOffset(0).Encode(), "0");
  EXPECT_EQ(JobCursor::AtOffset(1234).Encode(), "1234");
  auto cursor = JobCursor::Decode("50");
  ASSERT_TRUE(cursor.ok());
  EXPECT_FALSE(cursor->keyed());
  EXPECT_EQ(cursor->offset, 50);
}

TEST(JobCursorTest, KeysSurviveTheRoundTripAndStayUrlSafe) {
  for (const auto& [score, id] : std::vector<std::pair<std::string, std::string>>{
           {"1733500000000", "01JEB9ZQ5X0000000000"},
           {"-2.5", "a b/c+d?e=f&g"},  // ids are the caller's: anything after the first space
           {"1.5e+20", "\xff\xfe"},
           {"0", "x"}}) {
    const std::string text = JobCursor::After(score, id).Encode();
    EXPECT_EQ(text[0], 'k');
    EXPECT_EQ(
        text.find_first_not_of("kABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << text;
    auto back = JobCursor::Decode(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_TRUE(back->keyed());
    EXPECT_EQ(back->after_score, score);
    EXPECT_EQ(back->after_id, id);
  }
}

TEST(JobCursorTest, AnythingElseIsAnInvalidCursor) {
  const std::string long_key = JobCursor::After("1", std::string(900, 'x')).Encode();
  for (const std::string& text :
       {std::string(""), std::string("-1"), std::string("1234567890123456"), std::string("k"),
        std::string("abc"), std::string("k!!!!"), std::string("k") + "MTIz",  // "123": no space
        JobCursor::After("inf", "a").Encode(), JobCursor::After("nan", "a").Encode(),
        JobCursor::After("0x10", "a").Encode(), std::string("kMSA"),  // "1 ": no id
        long_key}) {
    auto cursor = JobCursor::Decode(text);
    ASSERT_FALSE(cursor.ok()) << text;
    EXPECT_EQ(cursor.status().field(), "cursor");
  }
}

}  // namespace
}  // namespace taskq
