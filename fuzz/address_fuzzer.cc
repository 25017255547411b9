// The address guard's parsing (webhook and image URLs, --webhook-allow): IP addresses and CIDRs.
// A parsed address prints as text that parses to the same address, and an IPv6 form of an
// IPv4 address is judged as that IPv4 address.
#include <cstdint>

#include "fuzz_check.h"
#include "handlers/address_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using taskq::handlers::IpAddress;
  const std::string_view text = taskq::fuzz::AsText(data, size);
  if (std::optional<IpAddress> address = IpAddress::Parse(text)) {
    std::optional<IpAddress> again = IpAddress::Parse(address->ToString());
    TASKQ_FUZZ_CHECK(again.has_value() && *again == *address);
    const auto reason = taskq::handlers::ForbiddenReason(*address);
    if (std::optional<IpAddress> v4 = address->EmbeddedV4()) {
      TASKQ_FUZZ_CHECK(v4->is_v4);
      TASKQ_FUZZ_CHECK(taskq::handlers::ForbiddenReason(*v4).has_value() == reason.has_value());
    }
  }
  auto cidr = taskq::handlers::ParseCidr(text);
  if (cidr.ok()) {
    TASKQ_FUZZ_CHECK(cidr->Contains(cidr->network));
    auto again = taskq::handlers::ParseCidr(cidr->ToString());
    TASKQ_FUZZ_CHECK(again.ok() && again->network == cidr->network &&
                     again->prefix_length == cidr->prefix_length);
  }
  return 0;
}
