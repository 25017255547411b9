// claim.lua's receipts and lost_claim.lua: a worker whose claim reply was lost finds the jobs the
// claim took and hands them back without a stall.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class LostClaimScriptTest : public ScriptTest {
 protected:
  broker::Reply ClaimWithReceipt(int n, const std::string& receipt, long long lease_ms = 30000) {
    return Eval("claim", ClaimKeys(),
                {base(), std::to_string(n), std::to_string(lease_ms), "1000", receipt});
  }
  broker::Reply LostClaim(const std::string& receipt) {
    return Eval("lost_claim", LostClaimKeys(), {base(), receipt});
  }
  std::vector<std::string> Texts(const broker::Reply& reply) {
    std::vector<std::string> out;
    for (size_t i = 0; i < reply.view().size(); ++i) out.emplace_back(reply.view()[i].str());
    return out;
  }
};

TEST_F(LostClaimScriptTest, TheReceiptNamesTheJobsThatStillHoldTheClaimsLease) {
  for (const char* id : {"a", "b", "c"}) Enqueue(id);
  auto claim = ClaimWithReceipt(2, "w1:7", 5000);
  ASSERT_EQ(ClaimedIds(claim), (std::vector<std::string>{"a", "b"}));
  const std::string token = TokenOf(claim, 0);
  const std::string receipt_key = base() + "rc:w1:7";
  const std::string receipt = Get(receipt_key);
  EXPECT_EQ(receipt.substr(0, token.size() + 1), token + ":");
  EXPECT_EQ(std::stoll(receipt.substr(token.size() + 1)), ZScore(q().active(), "a"));
  const long long ttl = Run({"PTTL", receipt_key}).view().integer();
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 5000);  // gone with the lease: then the jobs are recover.lua's

  // Another claim in the same millisecond has its own token: not named.
  auto other = ClaimWithReceipt(1, "w2:1", 5000);
  ASSERT_EQ(ClaimedIds(other), (std::vector<std::string>{"c"}));
  // b's lease was handed back meanwhile: no longer the claim's.
  ASSERT_EQ(Eval("release", ReleaseKeys(), {base(), "b", token}).view().integer(), 1);

  EXPECT_EQ(Texts(LostClaim("w1:7")), (std::vector<std::string>{token, "a"}));
  EXPECT_FALSE(Exists(receipt_key));                  // used once
  EXPECT_TRUE(LostClaim("w1:7").view().size() == 0);  // then unknown
  EXPECT_EQ(StateOf("a").state, "active");            // the worker releases them, not this script
}

TEST_F(LostClaimScriptTest, NoReceiptWithoutJobsOrWithoutAName) {
  auto empty = ClaimWithReceipt(1, "w1:1");
  EXPECT_EQ(CountOf(empty), 0);
  EXPECT_FALSE(Exists(base() + "rc:w1:1"));  // nothing claimed: nothing to hand back
  EXPECT_EQ(LostClaim("w1:1").view().size(), 0u);
  Enqueue("a");
  ASSERT_EQ(CountOf(Claim(1)), 1);  // the broker's claims without a receipt write none
  EXPECT_TRUE(Strings({"KEYS", base() + "rc:*"}).empty());
}

TEST_F(LostClaimScriptTest, InvalidArgumentsWriteNothing) {
  Enqueue("a");
  auto before = Snapshot();
  EXPECT_TRUE(ClaimWithReceipt(1, "").view().is_error());
  EXPECT_TRUE(ClaimWithReceipt(1, std::string(65, 'r')).view().is_error());
  EXPECT_TRUE(
      Eval("claim", ClaimKeys(), {base(), "1", "30000", "1000", "r", "extra"}).view().is_error());
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(LostClaim("").view().is_error());
  EXPECT_TRUE(LostClaim(std::string(65, 'r')).view().is_error());
  Run({"SET", base() + "rc:bad", "not a receipt"});
  EXPECT_TRUE(LostClaim("bad").view().is_error());
  EXPECT_TRUE(Exists(base() + "rc:bad"));  // an error writes nothing
}

}  // namespace
}  // namespace taskq::testing
