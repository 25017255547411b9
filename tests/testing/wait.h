// Polling helper for tests that wait on another thread or process. Tests wait for an outcome with
// a generous limit; they never assert on elapsed time except where the contract is about time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace taskq::testing {

inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace taskq::testing
