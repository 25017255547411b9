#include "common/percent_encoding.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

TEST(PercentEncodingTest, StrictDecodeRefusesMalformedEscapesAndOptionallyNul) {
  EXPECT_EQ(PercentDecode("p%40ss%2Fw%3a", false), "p@ss/w:");
  EXPECT_EQ(PercentDecode("a%00b", false), std::string("a\0b", 3));
  EXPECT_FALSE(PercentDecode("a%00b", true));
  EXPECT_FALSE(PercentDecode(std::string_view("a\0b", 3), true));  // raw, as well as escaped
  for (const char* bad : {"%", "%4", "%4g", "%-1", "x%zz"}) EXPECT_FALSE(PercentDecode(bad, false));
}

TEST(PercentEncodingTest, EncodeKeepsUnreservedBytesAndRoundTrips) {
  EXPECT_EQ(PercentEncode("my-master_1.a~"), "my-master_1.a~");
  EXPECT_EQ(PercentEncode("a b/c@d%"), "a%20b%2Fc%40d%25");
  const std::string all_bytes = [] {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
  }();
  EXPECT_EQ(PercentDecode(PercentEncode(all_bytes), false), all_bytes);
}

TEST(PercentEncodingTest, FormDecodeTurnsPlusIntoSpaceAndKeepsMalformedEscapes) {
  EXPECT_EQ(FormDecode("a+b%20c"), "a b c");
  EXPECT_EQ(FormDecode("100%"), "100%");
  EXPECT_EQ(FormDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

}  // namespace
}  // namespace taskq
