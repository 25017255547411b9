// The file readers of the export type: CSV (RFC 4180) and NDJSON, read row by row as an export
// reads its input file. The first byte picks the format; the rest is the file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "handlers/row_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int fd = ::memfd_create("taskq-fuzz-rows", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size - 1) {
    const ssize_t n = ::write(fd, data + 1 + written, size - 1 - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  taskq::UniqueFd file(fd);
  taskq::handlers::FileRowSourceOptions options;
  options.max_line_bytes = 4096;
  auto source = (data[0] & 1)
                    ? taskq::handlers::MakeCsvFileSource(std::move(file), "f", options)
                    : taskq::handlers::MakeNdjsonFileSource(std::move(file), "f", options);
  auto columns = source->Columns({});
  if (!columns.ok()) return 0;
  std::vector<boost::json::value> row;
  for (int i = 0; i < 10000; ++i) {
    auto more = source->Next(&row);
    if (!more.ok() || !*more) break;
    TASKQ_FUZZ_CHECK(row.size() == columns->size());
  }
  return 0;
}
