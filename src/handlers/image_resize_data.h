// The data of an `image-resize` job, checked and read (docs/job-types.md): what the worker runs
// and the API validates at enqueue time. Private to src/handlers/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "handlers/image_resize.h"
#include "taskq/status.h"

namespace taskq::handlers {

inline constexpr int kDefaultQuality = 80;

enum class Fit { kCover, kContain, kFill, kInside };
enum class Format { kJpeg, kPng, kWebp };

inline constexpr std::string_view kFitNames[] = {"cover", "contain", "fill", "inside"};
inline constexpr std::string_view kFormatNames[] = {"jpeg", "png", "webp"};

inline std::string_view FormatName(Format format) { return kFormatNames[static_cast<int>(format)]; }

struct OutputSpec {
  int width = 0;
  int height = 0;
  Fit fit = Fit::kInside;
  Format format = Format::kJpeg;
  int quality = kDefaultQuality;
  std::string path;                     // as given: relative to the output directory
  std::vector<std::string> components;  // `path` split at '/', each checked
};

struct ImageResizeData {
  std::string source;
  bool source_is_url = false;
  std::vector<OutputSpec> outputs;
  bool keep_metadata = false;
};

// Every field checked against the limits and `options` (output count and dimensions); a URL
// source's address is only checked when the job runs. Errors name the field
// ("data.outputs[1].width").
Result<ImageResizeData> ParseImageResizeData(std::string_view data_json,
                                             const ImageResizeOptions& options);

}  // namespace taskq::handlers
