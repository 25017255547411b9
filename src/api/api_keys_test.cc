#include "api/api_keys.h"

#include <gtest/gtest.h>

namespace taskq::api {
namespace {

TEST(ApiKeys, ScopeAndTokenFindTheKey) {
  auto key = ParseApiKey("enqueue:0123456789abcdef");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->scope, Scope::kEnqueue);
  EXPECT_TRUE(key->types.empty());
  ApiKeys keys({*key});
  EXPECT_EQ(keys.Authenticate("Bearer 0123456789abcdef"), Scope::kEnqueue);
  EXPECT_EQ(keys.Authenticate("bearer 0123456789abcdef"), Scope::kEnqueue);
  EXPECT_EQ(keys.Authenticate("Bearer 0123456789abcdeF"), Scope::kNone);
  EXPECT_EQ(keys.Find("Basic 0123456789abcdef"), nullptr);
}

TEST(ApiKeys, AKeyMayBeLimitedToJobTypes) {
  auto key = ParseApiKey("enqueue/email+webhook:0123456789abcdef");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->scope, Scope::kEnqueue);
  EXPECT_EQ(key->types, (std::vector<std::string>{"email", "webhook"}));
  auto admin = ParseApiKey("admin/cleanup:sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_EQ(admin->types, std::vector<std::string>{"cleanup"});
  ApiKeys keys({*key, *admin});
  const ApiKey* found = keys.Find("Bearer 0123456789abcdef");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->types.size(), 2u);
}

TEST(ApiKeys, BadTypeListsNameTheRule) {
  struct Case {
    const char* spec;
    const char* message;
  } cases[] = {
      {"read/email:0123456789abcdef", "a read key enqueues no job types"},
      {"enqueue/:0123456789abcdef", "SCOPE/ names no job type"},
      {"enqueue/+:0123456789abcdef", "SCOPE/ names no job type"},
      {"enqueue/e mail:0123456789abcdef", "a job type after SCOPE/"},
      {"owner/email:0123456789abcdef", "scope must be read, enqueue or admin"},
  };
  for (const Case& c : cases) {
    auto key = ParseApiKey(c.spec);
    ASSERT_FALSE(key.ok()) << c.spec;
    EXPECT_EQ(key.status().field(), "api_keys");
    EXPECT_NE(key.status().message().find(c.message), std::string::npos)
        << c.spec << ": " << key.status().message();
  }
}

}  // namespace
}  // namespace taskq::api
