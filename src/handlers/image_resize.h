// The built-in `image-resize` job type: one source image (a file under the input root, or an
// http(s) URL fetched through the SSRF guard of handlers/address_guard.h) turned into one or more
// resized outputs below the output directory, with libvips. Data fields, results and errors are
// documented in docs/job-types.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/http_target.h"
#include "taskq/handler.h"
#include "taskq/status.h"

namespace taskq::handlers {

struct ImageResizeOptions {
  // A file source must be an absolute path below this directory, reached without symlinks.
  std::string input_root = "data/images";
  // Output paths are relative to this directory; created at the first job when missing.
  std::string output_dir = "data/images/out";
  // CIDRs a URL source may reach although they are loopback, private, link-local, ...
  std::vector<std::string> allow_cidrs;
  // Ports a URL source may use; empty: any.
  std::vector<int> allowed_ports = kDefaultAllowedPorts;
  size_t max_source_bytes = 50 << 20;  // a URL source's download, and a file source's size
  // Refused from the header, before any pixel is decoded (decompression bombs).
  int64_t max_pixels = 100'000'000;
  // What a source that cannot be streamed may take decoded, in bytes: width x height x bands x
  // bytes per sample (2 per sample for a progressive JPEG's coefficients; GIF as RGBA).
  // Interlaced PNGs, progressive JPEGs, WebP, GIF, HEIF and TIFF (one strip or tile may be the
  // whole image) count as decoded whole; baseline JPEG and non-interlaced PNG stream a few lines
  // at a time and are bounded by max_pixels alone. Checked from the header, before any pixel is
  // decoded.
  int64_t max_decode_bytes = int64_t{256} << 20;
  int max_outputs = 10;       // per job
  int max_dimension = 10000;  // an output's width and height
  // The whole download of a URL source, never past the attempt's deadline.
  std::chrono::milliseconds fetch_timeout{30000};
};

// Checks options once at startup (the CIDRs and limits), so a bad one stops the worker instead of
// failing every job. Errors name the option ("allow_cidrs", "max_pixels", ...).
Status ValidateImageResizeOptions(const ImageResizeOptions& options);

// Checks a job's data without touching files or the network. Errors name the field:
// "data.source", "data.outputs[1].fit", ... (kInvalidArgument with field()). Limits are those of
// a default ImageResizeOptions.
Status ValidateImageResizeData(std::string_view data_json);

// Initialises libvips once per process (thread-safe), with its operation cache off and one
// thread per image pipeline. The handler blocks for the fetch and the resize, so it must run on a
// handler thread (not run_inline); several jobs may run at once. With invalid options every job
// fails with a configuration error.
Handler MakeImageResizeHandler(ImageResizeOptions options);

}  // namespace taskq::handlers
