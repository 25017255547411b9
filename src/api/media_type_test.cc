#include "api/media_type.h"

#include <gtest/gtest.h>

namespace taskq::api {
namespace {

TEST(MediaTypeTest, JsonInAnyCaseAndWithParametersIsJson) {
  EXPECT_TRUE(IsJsonMediaType("application/json"));
  EXPECT_TRUE(IsJsonMediaType("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(IsJsonMediaType(" application/merge-patch+json "));
  EXPECT_FALSE(IsJsonMediaType("application/x-www-form-urlencoded"));
  EXPECT_FALSE(IsJsonMediaType("text/plain"));
  EXPECT_FALSE(IsJsonMediaType("text/json+xml"));
  EXPECT_FALSE(IsJsonMediaType("application/jsonx"));
  EXPECT_FALSE(IsJsonMediaType(""));
}

TEST(MediaTypeTest, OnlyABodyOfAnotherTypeIsRefused) {
  HttpRequest request;
  request.method = "POST";
  request.body = R"({"type":"email"})";
  EXPECT_FALSE(UnsupportedMediaType(request));  // no Content-Type: taken as JSON
  request.headers = {{"content-type", "application/json; charset=utf-8"}};
  EXPECT_FALSE(UnsupportedMediaType(request));
  request.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  auto refused = UnsupportedMediaType(request);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 415);
  EXPECT_NE(refused->body.find("\"field\":\"Content-Type\""), std::string::npos) << refused->body;
  EXPECT_NE(refused->body.find("application/x-www-form-urlencoded"), std::string::npos);
  request.body.clear();  // POST /api/queues/q/pause from curl -X POST with a stray header
  EXPECT_FALSE(UnsupportedMediaType(request));
}

}  // namespace
}  // namespace taskq::api
