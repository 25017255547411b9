#include "common/callback_url.h"

#include <gtest/gtest.h>

#include <string>

namespace taskq {
namespace {

TEST(CallbackUrlTest, AcceptsHttpAndHttpsUrlsWithAHost) {
  for (const char* url : {"https://hooks.example.com/done", "http://10.0.0.5:8080/x?y=1#z",
                          "HTTPS://Example.com", "https://[2001:db8::1]/cb"}) {
    EXPECT_TRUE(CheckCallbackUrl("callback_url", url).ok()) << url;
  }
}

TEST(CallbackUrlTest, RefusesOtherSchemesCredentialsSpacesAndLongUrls) {
  const std::string long_url = "https://example.com/" + std::string(8192, 'a');
  for (const std::string& url :
       {std::string("ftp://example.com/"), std::string("example.com/cb"), std::string("https://"),
        std::string("https:///path"), std::string("https://:80/"),
        std::string("https://user:pw@example.com/"), std::string("https://example.com/a b"),
        std::string("https://example.com/\x7f"), std::string("https://ex\nample.com/"),
        std::string(""), long_url}) {
    const Status s = CheckCallbackUrl("callback_url", url);
    EXPECT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.field(), "callback_url") << url;
  }
}

}  // namespace
}  // namespace taskq
