#include "handlers/address_guard.h"

#include <gtest/gtest.h>

namespace taskq::handlers {
namespace {

IpAddress Ip(std::string_view text) {
  std::optional<IpAddress> address = IpAddress::Parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

TEST(IpAddressTest, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(Ip("93.184.216.34").ToString(), "93.184.216.34");
  EXPECT_TRUE(Ip("93.184.216.34").is_v4);
  EXPECT_EQ(Ip("[::1]").ToString(), "::1");
  EXPECT_FALSE(Ip("::1").is_v4);
  EXPECT_EQ(Ip("::FFFF:127.0.0.1").ToString(), "::ffff:127.0.0.1");
  EXPECT_EQ(Ip("2001:0db8:0000::0001").ToString(), "2001:db8::1");
}

TEST(IpAddressTest, RefusesOddIpv4FormsAndNames) {
  // Forms inet_aton accepts but a URL parser may read differently: never literals here.
  for (const char* text : {"2130706433", "0x7f.0.0.1", "127.1", "0177.0.0.1", "010.0.0.1",
                           "example.com", "", "[]", "1.2.3.4.5", "fe80::1%eth0", "::1/128"}) {
    EXPECT_FALSE(IpAddress::Parse(text).has_value()) << text;
  }
}

TEST(IpAddressTest, FindsTheIpv4AddressInsideIpv6Forms) {
  EXPECT_EQ(Ip("::ffff:10.0.0.1").EmbeddedV4(), Ip("10.0.0.1"));
  EXPECT_EQ(Ip("::127.0.0.1").EmbeddedV4(), Ip("127.0.0.1"));
  EXPECT_EQ(Ip("::ffff:0:10.0.0.1").EmbeddedV4(), Ip("10.0.0.1"));  // SIIT
  EXPECT_FALSE(Ip("::ffff:1:10.0.0.1").EmbeddedV4().has_value());
  EXPECT_EQ(Ip("64:ff9b::a9fe:a9fe").EmbeddedV4(), Ip("169.254.169.254"));
  EXPECT_EQ(Ip("2002:c0a8:0101::1").EmbeddedV4(), Ip("192.168.1.1"));
  EXPECT_FALSE(Ip("::").EmbeddedV4().has_value());
  EXPECT_FALSE(Ip("::1").EmbeddedV4().has_value());
  EXPECT_FALSE(Ip("2606:4700::1111").EmbeddedV4().has_value());
  EXPECT_FALSE(Ip("10.0.0.1").EmbeddedV4().has_value());
}

struct AddressCase {
  const char* address;
  const char* reason;  // nullptr: public, allowed
};

TEST(ForbiddenReasonTest, TableOfAddresses) {
  const AddressCase cases[] = {
      {"93.184.216.34", nullptr},
      {"8.8.8.8", nullptr},
      {"1.1.1.1", nullptr},
      {"172.32.0.1", nullptr},   // just past 172.16/12
      {"100.128.0.1", nullptr},  // just past 100.64/10
      {"169.253.255.255", nullptr},
      {"2606:4700:4700::1111", nullptr},
      {"::ffff:93.184.216.34", nullptr},
      {"2002:5db8:d822::1", nullptr},  // 6to4 of 93.184.216.34
      {"127.0.0.1", "a loopback address"},
      {"127.255.255.254", "a loopback address"},
      {"::1", "a loopback address"},
      {"10.0.0.1", "a private address"},
      {"172.16.0.1", "a private address"},
      {"172.31.255.255", "a private address"},
      {"192.168.1.1", "a private address"},
      {"169.254.1.1", "a link-local address"},
      {"fe80::1", "a link-local address"},
      {"febf:ffff::1", "a link-local address"},
      {"100.64.0.1", "a carrier-grade NAT address"},
      {"100.127.255.255", "a carrier-grade NAT address"},
      {"0.0.0.0", "the unspecified address"},
      {"0.1.2.3", "a \"this network\" address"},
      {"::", "the unspecified address"},
      {"[::]", "the unspecified address"},
      {"224.0.0.1", "a multicast address"},
      {"239.255.255.250", "a multicast address"},
      {"ff02::1", "a multicast address"},
      {"255.255.255.255", "a reserved or broadcast address"},
      {"fc00::1", "a unique local address"},
      {"fd12:3456::1", "a unique local address"},
      {"169.254.169.254", "a cloud metadata address"},
      {"fd00:ec2::254", "a cloud metadata address"},
      {"::ffff:127.0.0.1", "an IPv6 form of 127.0.0.1, a loopback address"},
      {"::ffff:10.0.0.1", "an IPv6 form of 10.0.0.1, a private address"},
      {"::ffff:169.254.169.254", "an IPv6 form of 169.254.169.254, a cloud metadata address"},
      {"::ffff:0.0.0.0", "an IPv6 form of 0.0.0.0, the unspecified address"},
      {"::127.0.0.1", "an IPv6 form of 127.0.0.1, a loopback address"},
      {"::10.0.0.1", "an IPv6 form of 10.0.0.1, a private address"},
      {"64:ff9b::7f00:1", "an IPv6 form of 127.0.0.1, a loopback address"},
      {"::ffff:0:127.0.0.1", "an IPv6 form of 127.0.0.1, a loopback address"},
      {"::ffff:0:a9fe:a9fe", "an IPv6 form of 169.254.169.254, a cloud metadata address"},
      {"2002:7f00:1::", "an IPv6 form of 127.0.0.1, a loopback address"},
      {"2001::1", "a Teredo tunnel address"},
  };
  for (const AddressCase& c : cases) {
    const std::optional<std::string> reason = ForbiddenReason(Ip(c.address));
    if (c.reason == nullptr) {
      EXPECT_FALSE(reason.has_value()) << c.address << ": " << reason.value_or("");
    } else {
      EXPECT_EQ(reason.value_or("(allowed)"), c.reason) << c.address;
    }
  }
}

TEST(ParseCidrTest, ParsesRangesAndSingleAddresses) {
  Result<Cidr> cidr = ParseCidr("10.0.0.0/8");
  ASSERT_TRUE(cidr.ok()) << cidr.status().ToString();
  EXPECT_EQ(cidr->ToString(), "10.0.0.0/8");
  EXPECT_TRUE(cidr->Contains(Ip("10.255.0.1")));
  EXPECT_FALSE(cidr->Contains(Ip("11.0.0.1")));
  EXPECT_FALSE(cidr->Contains(Ip("::ffff:10.0.0.1")));  // the guard looks inside, not Contains

  cidr = ParseCidr("172.16.0.0/12");
  ASSERT_TRUE(cidr.ok());
  EXPECT_TRUE(cidr->Contains(Ip("172.31.1.1")));
  EXPECT_FALSE(cidr->Contains(Ip("172.32.0.0")));

  cidr = ParseCidr(" 127.0.0.1 ");
  ASSERT_TRUE(cidr.ok());
  EXPECT_EQ(cidr->ToString(), "127.0.0.1/32");

  cidr = ParseCidr("fd00::/8");
  ASSERT_TRUE(cidr.ok());
  EXPECT_TRUE(cidr->Contains(Ip("fd12::1")));
  EXPECT_FALSE(cidr->Contains(Ip("fc00::1")));

  cidr = ParseCidr("::1");
  ASSERT_TRUE(cidr.ok());
  EXPECT_EQ(cidr->ToString(), "::1/128");

  cidr = ParseCidr("0.0.0.0/0");
  ASSERT_TRUE(cidr.ok());
  EXPECT_TRUE(cidr->Contains(Ip("169.254.169.254")));
  EXPECT_FALSE(cidr->Contains(Ip("::1")));
}

TEST(ParseCidrTest, RefusesMalformedEntries) {
  for (const char* text :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8x",
        "10.0.0.0/8/8", "localhost", "10.0.0/8", "0x0a.0.0.0/8"}) {
    Result<Cidr> cidr = ParseCidr(text);
    EXPECT_FALSE(cidr.ok()) << text;
    if (!cidr.ok()) {
      EXPECT_EQ(cidr.status().code(), StatusCode::kInvalidArgument);
    }
  }
  Result<Cidr> typo = ParseCidr("10.1.2.3/8");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("did you mean 10.0.0.0/8?"), std::string::npos)
      << typo.status().message();
}

TEST(AddressGuardTest, AllowlistPermitsWhatItNamesAndNothingElse) {
  Result<AddressGuard> guard = AddressGuard::Create({"127.0.0.0/8", "fd00:ec2::254"});
  ASSERT_TRUE(guard.ok()) << guard.status().ToString();
  EXPECT_TRUE(guard->Check(Ip("127.0.0.1")).ok());
  EXPECT_TRUE(guard->Check(Ip("::ffff:127.0.0.1")).ok());  // the mapped form of an allowed one
  EXPECT_TRUE(guard->Check(Ip("fd00:ec2::254")).ok());
  EXPECT_TRUE(guard->Check(Ip("93.184.216.34")).ok());
  EXPECT_FALSE(guard->Check(Ip("::1")).ok());
  EXPECT_FALSE(guard->Check(Ip("10.0.0.1")).ok());
  const Status refused = guard->Check(Ip("169.254.169.254"));
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(),
            "169.254.169.254 is a cloud metadata address (not in the allowlist of permitted "
            "CIDRs)");
}

TEST(AddressGuardTest, CreateNamesTheBadEntry) {
  Result<AddressGuard> guard = AddressGuard::Create({"10.0.0.0/8", "10.0.0.0/40"});
  ASSERT_FALSE(guard.ok());
  EXPECT_NE(guard.status().message().find("\"10.0.0.0/40\""), std::string::npos)
      << guard.status().message();
}

TEST(AddressGuardTest, ResolvesLiteralsWithoutDns) {
  Result<AddressGuard> guard = AddressGuard::Create({});
  ASSERT_TRUE(guard.ok());
  Result<IpAddress> address = guard->Resolve("93.184.216.34");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->ToString(), "93.184.216.34");
  for (const char* host : {"127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "[::]",
                           "100.64.0.1", "169.254.169.254", "[fd00:ec2::254]"}) {
    address = guard->Resolve(host);
    ASSERT_FALSE(address.ok()) << host;
    EXPECT_EQ(address.status().code(), StatusCode::kInvalidArgument) << host;
  }
}

TEST(AddressGuardTest, ResolvesNamesAndChecksEveryAnswer) {
  // "localhost" comes from /etc/hosts, so this needs no network.
  Result<AddressGuard> strict = AddressGuard::Create({});
  ASSERT_TRUE(strict.ok());
  Result<IpAddress> address = strict->Resolve("localhost");
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(address.status().message().find("localhost resolves only to refused addresses"),
            std::string::npos)
      << address.status().message();
  // Which address an internal name has is not told (the read scope sees job errors).
  EXPECT_EQ(address.status().message().find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(address.status().message().find("::1"), std::string::npos);
  EXPECT_NE(address.status().message().find("loopback"), std::string::npos)
      << address.status().message();

  Result<AddressGuard> allow_v4 = AddressGuard::Create({"127.0.0.0/8"});
  ASSERT_TRUE(allow_v4.ok());
  address = allow_v4->Resolve("localhost");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->ToString(), "127.0.0.1");

  address = allow_v4->Resolve("no-such-host.invalid");
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace taskq::handlers
