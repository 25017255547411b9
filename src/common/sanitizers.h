// Whether this build runs under AddressSanitizer (gcc's and clang's ways of saying so), for the
// code and tests that must act differently under it (memory caps, peak memory figures).
#pragma once

namespace taskq {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace taskq
