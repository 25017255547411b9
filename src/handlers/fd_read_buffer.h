// A std::streambuf that reads an open file descriptor, so that a file opened without following
// links (rooted_file.h) is read through the same descriptor: nothing reopens it by name.
#pragma once

#include <array>
#include <streambuf>

#include "common/unique_fd.h"

namespace taskq::handlers {

class FdReadBuffer : public std::streambuf {
 public:
  explicit FdReadBuffer(UniqueFd fd) : fd_(std::move(fd)) {}
  // True once a read failed (not at the end of the file); reads then report the end.
  bool failed() const { return failed_; }

 protected:
  int_type underflow() override;

 private:
  UniqueFd fd_;
  bool failed_ = false;
  std::array<char, 64 << 10> buffer_;
};

}  // namespace taskq::handlers
