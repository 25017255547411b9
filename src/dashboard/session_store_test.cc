#include "dashboard/session_store.h"

#include <gtest/gtest.h>

#include "dashboard/password_hash.h"

namespace taskq::dashboard {
namespace {

TEST(PasswordHash, VerifiesOnlyThePasswordItWasMadeFrom) {
  auto hash = HashPassword("s3cret", 1000);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("pbkdf2-sha256$1000$"));
  EXPECT_TRUE(CheckPasswordHash(*hash).ok());
  EXPECT_TRUE(VerifyPassword("s3cret", *hash));
  EXPECT_FALSE(VerifyPassword("s3cret ", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  auto again = HashPassword("s3cret", 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);  // a new salt each time
}

TEST(PasswordHash, RefusesMalformedAndWeakHashes) {
  auto hash = HashPassword("pw", 1000);
  ASSERT_TRUE(hash.ok());
  std::string tampered = *hash;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(VerifyPassword("pw", tampered));
  const std::vector<std::string> bad_hashes = {
      "",
      "plain",
      "pbkdf2-sha256$1000$00$00",
      "md5$1000$0011223344556677$" + std::string(64, '0'),
      "pbkdf2-sha256$999$0011223344556677$" + std::string(64, '0'),
      "pbkdf2-sha256$1000$0011223344556677$" + std::string(63, '0'),
      "pbkdf2-sha256$1000$0011223344556677$" + std::string(64, 'g'),
      *hash + "$extra"};
  for (const std::string& bad : bad_hashes) {
    EXPECT_FALSE(CheckPasswordHash(bad).ok()) << bad;
    EXPECT_FALSE(VerifyPassword("pw", bad)) << bad;
  }
  EXPECT_FALSE(HashPassword("").ok());
}

TEST(DashboardUser, ParsesNameRoleAndHash) {
  auto hash = HashPassword("pw", 1000);
  ASSERT_TRUE(hash.ok());
  auto user = ParseDashboardUser("ops:read:" + *hash);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->name, "ops");
  EXPECT_EQ(user->role, Role::kRead);
  EXPECT_EQ(user->password_hash, *hash);
  EXPECT_EQ(ParseDashboardUser("ops:root:" + *hash).status().field(), "dashboard_users");
  EXPECT_FALSE(ParseDashboardUser(":admin:" + *hash).ok());
  EXPECT_FALSE(ParseDashboardUser("ops:admin").ok());
  EXPECT_FALSE(ParseDashboardUser("ops:admin:secret").ok());
}

TEST(SessionStore, SessionsExpireAndSignOut) {
  SessionStore::Clock::time_point now{};
  SessionStore store({std::chrono::seconds(60), 10}, [&now] { return now; });
  Session created;
  const std::string token = store.Create("alice", Role::kAdmin, &created);
  ASSERT_EQ(token.size(), 64u);
  EXPECT_EQ(created.csrf.size(), 64u);
  EXPECT_NE(created.csrf, token);
  auto found = store.Find(token);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user, "alice");
  EXPECT_EQ(found->csrf, created.csrf);
  EXPECT_FALSE(store.Find("").has_value());
  EXPECT_FALSE(store.Find(std::string(64, '0')).has_value());
  now += std::chrono::seconds(61);
  EXPECT_FALSE(store.Find(token).has_value());
  EXPECT_EQ(store.size(), 0u);  // the expired one was dropped
  const std::string other = store.Create("bob", Role::kRead, &created);
  store.Remove(other);
  EXPECT_FALSE(store.Find(other).has_value());
}

TEST(SessionStore, IsBoundedDroppingTheSessionClosestToExpiry) {
  SessionStore::Clock::time_point now{};
  SessionStore store({std::chrono::seconds(60), 3}, [&now] { return now; });
  Session s;
  std::vector<std::string> tokens;
  for (int i = 0; i < 4; ++i) {
    tokens.push_back(store.Create("u" + std::to_string(i), Role::kRead, &s));
    now += std::chrono::seconds(1);
  }
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Find(tokens[0]).has_value());
  EXPECT_TRUE(store.Find(tokens[3]).has_value());
}

TEST(Tokens, CompareWholeTokens) {
  EXPECT_TRUE(TokensEqual("abc", "abc"));
  EXPECT_FALSE(TokensEqual("abc", "abd"));
  EXPECT_FALSE(TokensEqual("abc", "ab"));
  EXPECT_FALSE(TokensEqual("", ""));
  EXPECT_NE(RandomToken(), RandomToken());
}

}  // namespace
}  // namespace taskq::dashboard
