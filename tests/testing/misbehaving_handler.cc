#include "testing/misbehaving_handler.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace taskq::testing {
namespace json = boost::json;

HandlerResult Misbehave(JobContext& job) {
  const json::object data = json::parse(job.data_json()).as_object();
  const std::string what(data.at("do").as_string());
  const std::string pid = std::to_string(::getpid());
  auto number = [&](const char* field) { return data.at(field).to_number<int64_t>(); };
  if (what == "pid") return HandlerResult::Success("{\"pid\":" + pid + "}");
  if (what == "sleep") {
    job.Log("pid " + pid);
    if (const json::value* lock = data.if_contains("lock")) {
      // Left open on purpose: the lock lasts as long as this process.
      const int fd = ::open(std::string(lock->as_string()).c_str(), O_RDWR | O_CREAT, 0600);
      if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) return HandlerResult::Fail("overlap");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(number("ms")));
    return HandlerResult::Success("{\"pid\":" + pid + "}");
  }
  if (what == "alloc") {
    const size_t bytes = static_cast<size_t>(number("mb")) << 20;
    std::unique_ptr<char[]> block(new char[bytes]);
    for (size_t i = 0; i < bytes; i += 4096) block[i] = static_cast<char>(i);
    volatile char sink = block[bytes - 1];  // the pages are used, not optimized away
    (void)sink;
    return HandlerResult::Success("{\"allocated_mb\":" + std::to_string(number("mb")) + "}");
  }
  if (what == "segv") {
    volatile int* nowhere = nullptr;
    *nowhere = 1;
  }
  if (what == "abort") std::abort();
  if (what == "exit") std::_Exit(static_cast<int>(number("code")));
  if (what == "progress") {
    for (int step = 1; step <= 3; ++step) {
      job.SetProgress(std::to_string(step));
      job.Log("step " + std::to_string(step));
    }
    return HandlerResult::Success("{\"steps\":3}");
  }
  if (what == "echo") return HandlerResult::Success(job.data_json());
  if (what == "throw") throw std::runtime_error("thrown on purpose");
  return HandlerResult::Fail("unknown misbehaviour '" + what + "'");
}

}  // namespace taskq::testing
