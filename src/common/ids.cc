#include "common/ids.h"

#include <chrono>
#include <random>

namespace taskq {
namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string NewJobId(uint64_t unix_ms, uint64_t random_bits) {
  std::string id(20, '0');
  for (int i = 9; i >= 0; --i) {
    id[i] = kAlphabet[unix_ms & 31];
    unix_ms >>= 5;
  }
  for (int i = 19; i >= 10; --i) {
    id[i] = kAlphabet[random_bits & 31];
    random_bits >>= 5;
  }
  return id;
}

std::string NewJobId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  return NewJobId(static_cast<uint64_t>(ms), generator());
}

}  // namespace taskq
