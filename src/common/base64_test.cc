#include "common/base64.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace taskq {
namespace {

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, RoundTripsEveryByteAtEveryLength) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>(i * 7 % 256));
  for (size_t n = 0; n <= bytes.size(); n += 1) {
    const std::string input = bytes.substr(0, n);
    EXPECT_EQ(Base64Decode(Base64Encode(input)), input);
    EXPECT_EQ(Base64Decode(Base64Encode(input, /*wrap=*/true)), input);
  }
}

TEST(Base64Test, WrapsAt76WithCrlfBetweenLines) {
  const std::string encoded = Base64Encode(std::string(120, 'x'), /*wrap=*/true);
  EXPECT_EQ(encoded.size(), 160u + 2 * 2);  // lines of 76, 76 and 8
  EXPECT_EQ(encoded.substr(76, 2), "\r\n");
  EXPECT_FALSE(encoded.ends_with("\r\n"));
  for (size_t from = 0; from < encoded.size();) {  // CRLF only between lines of at most 76
    const size_t crlf = std::min(encoded.find("\r\n", from), encoded.size());
    EXPECT_LE(crlf - from, 76u);
    EXPECT_EQ(encoded.substr(from, crlf - from).find_first_of("\r\n"), std::string::npos);
    from = crlf + 2;
  }
}

TEST(Base64Test, DecodeRejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("Zm9").has_value());       // truncated
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());     // outside the alphabet
  EXPECT_FALSE(Base64Decode("Zg=").has_value());       // short padding
  EXPECT_FALSE(Base64Decode("Z===").has_value());      // too much padding
  EXPECT_FALSE(Base64Decode("Zg==Zg==").has_value());  // data after padding
  EXPECT_FALSE(Base64Decode("Zm9v-_").has_value());    // URL-safe alphabet
  EXPECT_FALSE(Base64Decode("not base64!").has_value());
  EXPECT_EQ(Base64Decode("Zm9v\r\nYmFy"), "foobar");  // wrapped lines are fine
  EXPECT_EQ(Base64Decode(""), "");
}

}  // namespace
}  // namespace taskq
