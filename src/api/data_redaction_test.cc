#include "api/data_redaction.h"

#include <gtest/gtest.h>

namespace taskq::api {
namespace {

TEST(DataRedaction, AnObjectKeepsItsNamesAndLosesItsValues) {
  EXPECT_EQ(RedactData(R"({"url":"https://x.test/h","headers":{"X-Api-Key":"k3y","A":{"b":1}}})",
                       {"headers"}),
            R"({"url":"https://x.test/h","headers":{"X-Api-Key":"[redacted]","A":"[redacted]"}})");
}

TEST(DataRedaction, AnyOtherValueIsReplacedWhole) {
  EXPECT_EQ(RedactData(R"({"password":"p","pin":1234,"list":["a"],"n":null,"keep":"k"})",
                       {"password", "pin", "list", "n", "missing"}),
            R"({"password":"[redacted]","pin":"[redacted]","list":"[redacted]",)"
            R"("n":"[redacted]","keep":"k"})");
}

TEST(DataRedaction, OtherFieldsKeepTheirTextByteForByte) {
  EXPECT_EQ(
      RedactData(R"({"n": 0.10000000000000000555, "big":1e400,"s":"caf\u00e9","h":"x"})", {"h"}),
      R"({"n":0.10000000000000000555,"big":1e400,"s":"caf\u00e9","h":"[redacted]"})");
}

TEST(DataRedaction, TextThatIsNotAnObjectGivesAnEmptyObject) {
  EXPECT_EQ(RedactData("[1,2]", {"a"}), "{}");
  EXPECT_EQ(RedactData("{\"a\":", {"a"}), "{}");
  EXPECT_EQ(RedactData("", {"a"}), "{}");
}

TEST(DataRedaction, FiltersOnASecretFieldOfTheTypeOrOfAnyType) {
  const SecretFields secrets = {{"webhook", {"headers"}}, {"login", {"password"}}};
  EXPECT_TRUE(FiltersOnSecret(secrets, "webhook", "headers"));
  EXPECT_TRUE(FiltersOnSecret(secrets, "", "password"));  // no type: any type's secrets count
  EXPECT_FALSE(FiltersOnSecret(secrets, "email", "headers"));
  EXPECT_FALSE(FiltersOnSecret(secrets, "webhook", "url"));
}

}  // namespace
}  // namespace taskq::api
