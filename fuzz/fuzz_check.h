// What the fuzz targets share: a check that stops the run with a message when a property that
// must hold for every input does not (libFuzzer then keeps the input as a crash).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define TASKQ_FUZZ_CHECK(condition)                                                         \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace taskq::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace taskq::fuzz
