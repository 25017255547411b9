#include "common/url_password.h"

#include <gtest/gtest.h>

namespace taskq {
namespace {

TEST(MaskUrlPasswordTest, HidesThePasswordOnly) {
  EXPECT_EQ(MaskUrlPassword("smtp://mailer:s3cret@mail.example.com:587"),
            "smtp://mailer:***@mail.example.com:587");
  EXPECT_EQ(MaskUrlPassword("redis://:s3cret@127.0.0.1:6379/2?wait_replicas=1"),
            "redis://:***@127.0.0.1:6379/2?wait_replicas=1");
  EXPECT_EQ(MaskUrlPassword("redis+sentinel://app:pw@s1:26379,s2/mymaster"),
            "redis+sentinel://app:***@s1:26379,s2/mymaster");
}

TEST(MaskUrlPasswordTest, HidesPasswordsThatWereNotPercentEncoded) {
  EXPECT_EQ(MaskUrlPassword("redis://app:p@ss:w/o?rd@db:6379/0"), "redis://app:***@db:6379/0");
  const std::string masked = MaskUrlPassword("smtps://u:a/b@c@mail:465");
  EXPECT_EQ(masked.find("a/b"), std::string::npos) << masked;
}

TEST(MaskUrlPasswordTest, HidesPasswordsInTheQuery) {
  EXPECT_EQ(MaskUrlPassword("redis+sentinel://:pw@s1/m?sentinel_user=u&sentinel_password=s@p"),
            "redis+sentinel://:***@s1/m?sentinel_user=u&sentinel_password=***");
  EXPECT_EQ(MaskUrlPassword("rediss+sentinel://s1/m?sentinel_password=x%26y&tls_ca=/ca.pem"),
            "rediss+sentinel://s1/m?sentinel_password=***&tls_ca=/ca.pem");
  EXPECT_EQ(MaskUrlPassword("rediss://h/0?tls_ca=/a@b/ca.pem"), "rediss://h/0?tls_ca=/a@b/ca.pem");
}

TEST(MaskUrlPasswordTest, LeavesUrlsWithoutPasswordsAlone) {
  for (const char* url : {"redis://127.0.0.1:6379", "smtp://mailer@mail:25", "unix:///run/r.sock",
                          "not a url", "", "smtp://mail:25/x"}) {
    EXPECT_EQ(MaskUrlPassword(url), url);
  }
}

}  // namespace
}  // namespace taskq
